// keywarden's HTML report: draws the page from the JSON in #kw-data (layout: html.rs, `Tables`).
// Every value from the data is attacker-controlled: it reaches the page only as textContent or
// an SVG text node, never as markup, and the invisible characters that reorder or hide text are
// shown as visible escapes (as the terminal output does).
"use strict";
(function () {
  var t0 = performance.now();
  var SVG = "http://www.w3.org/2000/svg";
  var SEVERITIES = ["critical", "high", "medium", "low"];
  var ROOT = "<root_account>";
  var D = JSON.parse(document.getElementById("kw-data").textContent);
  var meta = D.meta, rules = D.rules, rows = D.rows, N = rows.length;
  var tParsed = performance.now();

  // ----- helpers -----
  var UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  function visible(s) {
    if (s === null || s === undefined) return "";
    s = String(s);
    return s.replace(UNSAFE, function (c) { return "\\u{" + c.charCodeAt(0).toString(16) + "}"; });
  }
  // Multi-line text (a rule's documentation): each line made visible, the line breaks kept.
  function visibleLines(s) { return String(s).split("\n").map(visible).join("\n"); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function iso(sec) {
    if (sec === null || sec === undefined) return "";
    var d = new Date(sec * 1000);
    // An instant outside what a JavaScript Date holds is shown as its seconds.
    return isNaN(d.getTime()) ? String(sec) + " s" : d.toISOString().replace(".000Z", "Z");
  }
  function age(seconds) {
    if (seconds === null || seconds === undefined) return "unknown";
    var a = Math.abs(seconds), s;
    if (a < 3600) s = Math.round(a / 60) + " min";
    else if (a < 172800) s = Math.round(a / 3600) + " h";
    else s = Math.round(a / 86400) + " days";
    return seconds < 0 ? s + " in the future" : s;
  }
  function $(id) { return document.getElementById(id); }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // ----- columns, as typed arrays -----
  var rRule = new Int32Array(N), rSev = new Int8Array(N), rStatus = new Int8Array(N);
  var rAcct = new Int32Array(N), rCred = new Int8Array(N);
  var ruleSev = rules.map(function (r) { return Math.max(0, SEVERITIES.indexOf(r[2])); });
  for (var i = 0; i < N; i++) {
    var row = rows[i];
    rRule[i] = row[0]; rSev[i] = ruleSev[row[0]]; rStatus[i] = row[1];
    rAcct[i] = row[2]; rCred[i] = row[4];
  }
  function user(i) { return rows[i][3] === undefined ? null : rows[i][3]; }
  function keyId(i) { return rows[i][5] === undefined ? null : rows[i][5]; }
  function acct(i) { return rAcct[i] < 0 ? null : D.accounts[rAcct[i]]; }
  function message(i) { return D.messages[rows[i][6]]; }
  function num(i, k) { var v = rows[i][k]; return v === undefined ? null : v; }

  // ----- header -----
  var app = $("kw-app") || document.body.appendChild(el("main"));
  app.id = "kw-app";
  app.appendChild(el("h1", null, "keywarden report"));
  var m = el("p", "meta");
  function metaItem(label, value, id) {
    var s = el("span", null, label + ": ");
    var v = el("b", null, value);
    if (id) v.id = id;
    s.appendChild(v);
    m.appendChild(s);
  }
  metaItem("source", visible(meta.source.location) + " (" + visible(meta.source.kind) + ")", "kw-source");
  metaItem("data as of", meta.data_as_of || "unknown (" + visible(meta.source.as_of_basis) + ")");
  metaItem("data age", age(meta.source.age_seconds), "kw-age");
  metaItem("ages measured at", meta.generated_at);
  metaItem("preset", visible(meta.preset));
  metaItem(meta.subject === "events" ? "subject" : "users evaluated",
    meta.subject === "events" ? "CloudTrail events" : fmt(meta.users_evaluated));
  metaItem("tool", "keywarden " + visible(meta.version));
  app.appendChild(m);
  if (meta.data_as_of) {
    m.appendChild(el("span", "muted", "(" + visible(meta.source.as_of_basis) + ")"));
  }

  // ----- counts -----
  var bySev = [0, 0, 0, 0], byStatus = [0, 0, 0];
  var byRule = rules.map(function () { return [0, 0, 0]; });
  var byAcct = D.accounts.map(function () { return [0, 0, 0, 0]; });
  for (i = 0; i < N; i++) {
    bySev[rSev[i]]++; byStatus[rStatus[i]]++; byRule[rRule[i]][rStatus[i]]++;
    if (rAcct[i] >= 0) { var a = byAcct[rAcct[i]]; a[rStatus[i]]++; a[3]++; }
  }
  var cards = el("div", "cards");
  cards.id = "kw-counts";
  function card(label, n, key, cls) {
    var c = el("div", "card");
    var v = el("span", "n" + (cls ? " " + cls : ""), fmt(n));
    v.setAttribute("data-count", key);
    c.appendChild(v);
    c.appendChild(el("span", "l", label));
    cards.appendChild(c);
  }
  card("findings", N, "total");
  D.statuses.forEach(function (s, k) { card(s, byStatus[k], "status:" + s); });
  SEVERITIES.forEach(function (s, k) { card(s, bySev[k], "severity:" + s, "sev-" + s); });
  app.appendChild(cards);

  var overview = el("div", "grid2");
  app.appendChild(overview);
  // By rule: a table and a bar chart.
  var ruleBox = el("div", "box");
  ruleBox.appendChild(el("h2", null, "Findings by rule"));
  var rt = el("table", "small");
  rt.id = "kw-by-rule";
  var rth = el("tr");
  ["rule", "name", "severity"].concat(D.statuses).forEach(function (h, k) {
    rth.appendChild(el("th", k > 2 ? "num" : null, h));
  });
  rt.appendChild(rth);
  var ruleOrder = rules.map(function (_, k) { return k; }).filter(function (k) {
    return byRule[k][0] + byRule[k][1] + byRule[k][2] > 0;
  });
  ruleOrder.forEach(function (k) {
    var tr = el("tr");
    tr.setAttribute("data-rule", rules[k][0]);
    tr.appendChild(el("td", "mono", visible(rules[k][0])));
    tr.appendChild(el("td", null, visible(rules[k][1])));
    tr.appendChild(el("td", "sev-" + rules[k][2], rules[k][2]));
    for (var s = 0; s < 3; s++) tr.appendChild(el("td", "num", fmt(byRule[k][s])));
    rt.appendChild(tr);
  });
  if (!ruleOrder.length) ruleBox.appendChild(el("p", "muted", "No findings: every rule that ran passed."));
  ruleBox.appendChild(rt);
  ruleBox.appendChild(barChart(ruleOrder.map(function (k) {
    return { label: rules[k][0], n: byRule[k][0] + byRule[k][1] + byRule[k][2], cls: rules[k][2] };
  })));
  var ran = el("p", "muted", "Rules that ran: " + rules.map(function (r) { return visible(r[0]); }).join(", "));
  ruleBox.appendChild(ran);
  overview.appendChild(ruleBox);

  // An organization run: every account with its name, OU path and status (a failed or skipped
  // account included), its counts from the run's summaries; a row filters the table by it.
  var ORG = D.org || null;
  if (ORG) {
    var ob = el("div", "box wide");
    ob.appendChild(el("h2", null, "Accounts (" + fmt(ORG.length) + ")"));
    var ot = el("table", "small");
    ot.id = "kw-org";
    var oth = el("tr");
    ["account", "name", "OU path", "status", "users", "fail", "unknown", "exempted", "critical", "high"].forEach(function (h, k) {
      oth.appendChild(el("th", k > 3 ? "num" : null, h));
    });
    ot.appendChild(oth);
    ORG.forEach(function (a, k) {
      var tr = el("tr", a[3] === "ok" ? null : "failed");
      tr.setAttribute("data-account", a[0]);
      tr.appendChild(el("td", "mono", visible(a[0])));
      tr.appendChild(el("td", null, visible(a[1])));
      tr.appendChild(el("td", null, visible(a[2])));
      var st = visible(a[3]) + (a[4] ? " (" + visible(a[4]) + ")" : "");
      var std = el("td", a[3] === "ok" ? null : "alert", st);
      if (a[5]) std.title = visible(a[5]);
      tr.appendChild(std);
      [a[7], a[8], a[9], a[10], a[11][0], a[11][1]].forEach(function (n) { tr.appendChild(el("td", "num", fmt(n))); });
      tr.tabIndex = 0;
      function pick() { var f = FACETS[3]; f.value = k; f.sel.value = String(k); update(); }
      tr.addEventListener("click", pick);
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") pick(); });
      ot.appendChild(tr);
    });
    ob.appendChild(ot);
    app.appendChild(ob);
  }

  // Per account, when the findings name several.
  if (!ORG && D.accounts.length > 1) {
    var ab = el("div", "box");
    ab.appendChild(el("h2", null, "Findings by account"));
    var at = el("table", "small");
    at.id = "kw-by-account";
    var ath = el("tr");
    ["account"].concat(D.statuses, ["total"]).forEach(function (h, k) { ath.appendChild(el("th", k ? "num" : null, h)); });
    at.appendChild(ath);
    D.accounts.map(function (_, k) { return k; })
      .sort(function (x, y) { return byAcct[y][3] - byAcct[x][3]; })
      .forEach(function (k) {
        var tr = el("tr");
        tr.appendChild(el("td", "mono", visible(D.accounts[k])));
        for (var s = 0; s < 4; s++) tr.appendChild(el("td", "num", fmt(byAcct[k][s])));
        at.appendChild(tr);
      });
    ab.appendChild(at);
    overview.appendChild(ab);
  }

  // Key ages and days since last use, one value per key (a key with several findings counts once).
  var ages = [], idles = [], seenKey = new Set();
  for (i = 0; i < N; i++) {
    var ag = num(i, 8), id = num(i, 9);
    if (ag === null && id === null) continue;
    var kk = rAcct[i] + "\u0000" + user(i) + "\u0000" + rCred[i] + "\u0000" + keyId(i);
    if (seenKey.has(kk)) continue;
    seenKey.add(kk);
    if (ag !== null) ages.push(ag);
    if (id !== null) idles.push(id);
  }
  var th = meta.thresholds;
  var hb = el("div", "box");
  hb.appendChild(el("h2", null, "Keys with findings: age and days since last use"));
  hb.appendChild(el("h3", null, "Key age (days since creation), " + fmt(ages.length) + " key(s)"));
  hb.appendChild(histogram(ages, [["max_key_age_days", th.max_key_age_days]], "kw-hist-age"));
  hb.appendChild(el("h3", null, "Days since last use (since creation if never used), " + fmt(idles.length) + " key(s)"));
  hb.appendChild(histogram(idles, [["max_unused_days", th.max_unused_days], ["max_inactive_days", th.max_inactive_days]], "kw-hist-idle"));
  // A trail run's findings carry no key ages: the charts are left out rather than shown empty.
  if (meta.subject !== "events" || ages.length || idles.length) overview.appendChild(hb);

  function barChart(items) {
    var W = 480, bh = 16, gap = 4, left = 70, H = Math.max(1, items.length) * (bh + gap) + 4;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "aria-label": "findings by rule" });
    var max = Math.max.apply(null, items.map(function (x) { return x.n; }).concat([1]));
    items.forEach(function (x, k) {
      var y = k * (bh + gap) + 2, w = Math.max(1, (W - left - 60) * x.n / max);
      s.appendChild(svg("text", { x: 0, y: y + bh - 4 }, visible(x.label)));
      var cls = { critical: "crit", high: "high", medium: "medium", low: "low" }[x.cls] || "";
      s.appendChild(svg("rect", { x: left, y: y, width: w, height: bh, class: "bar " + cls }));
      s.appendChild(svg("text", { x: left + w + 4, y: y + bh - 4 }, fmt(x.n)));
    });
    return s;
  }

  function histogram(values, limits, id) {
    var W = 480, H = 160, left = 36, bottom = 22, top = 14 + 14 * limits.length;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", id: id });
    if (!values.length) {
      s.appendChild(svg("text", { x: left, y: 40 }, "no key findings with this data"));
      return s;
    }
    var hi = 0;
    for (var k = 0; k < values.length; k++) if (values[k] > hi) hi = values[k];
    limits.forEach(function (l) { if (l[1] > hi) hi = l[1]; });
    // A round bin width (days) giving at most 40 bins.
    var width = [1, 2, 5, 7, 10, 15, 30, 45, 60, 90, 180, 365, 730].find(function (w) { return (hi + 1) / w <= 40; }) ||
      Math.ceil((hi + 1) / 40);
    var bins = Math.ceil((hi + 1) / width), counts = new Array(bins).fill(0);
    values.forEach(function (v) { counts[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]++; });
    var maxc = Math.max.apply(null, counts), bw = (W - left - 8) / bins, ph = H - bottom - top;
    s.appendChild(svg("line", { x1: left, y1: H - bottom, x2: W - 4, y2: H - bottom, class: "axis" }));
    s.appendChild(svg("text", { x: 0, y: top + 4 }, fmt(maxc)));
    s.appendChild(svg("text", { x: 0, y: H - bottom }, "0"));
    counts.forEach(function (c, b) {
      if (!c) return;
      var h = Math.max(1, ph * c / maxc);
      var r = svg("rect", { x: left + b * bw, y: H - bottom - h, width: Math.max(1, bw - 1), height: h, class: "bar" });
      r.appendChild(svg("title", {}, (b * width) + "-" + ((b + 1) * width - 1) + " days: " + fmt(c) + " key(s)"));
      s.appendChild(r);
    });
    for (var d = 0; d <= hi; d += Math.max(1, Math.ceil(hi / 6 / 30) * 30)) {
      s.appendChild(svg("text", { x: left + (d / width) * bw, y: H - 6 }, d + "d"));
    }
    limits.forEach(function (l, n) {
      if (l[1] === undefined || l[1] === null) return;
      var x = left + (l[1] / width) * bw;
      s.appendChild(svg("line", { x1: x, y1: 14 + n * 14 - 10, x2: x, y2: H - bottom, class: "limit" }));
      s.appendChild(svg("text", { x: x + 3, y: 12 + n * 14, class: "limit-label" }, l[0] + " " + l[1]));
    });
    return s;
  }

  // ----- the findings table -----
  app.appendChild(el("h2", null, "Findings"));
  var filters = el("div", "filters");
  app.appendChild(filters);
  var FACETS = [
    { key: "severity", label: "severity", col: rSev, names: SEVERITIES },
    { key: "status", label: "status", col: rStatus, names: D.statuses },
    { key: "rule", label: "rule", col: rRule, names: rules.map(function (r) { return r[0] + " " + r[1]; }) },
    { key: "account", label: "account", col: rAcct, names: D.accounts.map(function (a, k) {
      return ORG && ORG[k] ? a + " " + ORG[k][1] : a;
    }) },
    { key: "credential", label: "credential kind", col: rCred, names: D.credentials }
  ];
  FACETS.forEach(function (f) {
    var lab = el("label", null, f.label);
    var sel = el("select");
    sel.id = "kw-filter-" + f.key;
    f.sel = sel; f.value = -2; f.counts = new Int32Array(f.names.length + 1);
    sel.addEventListener("change", function () { f.value = Number(sel.value); update(); });
    lab.appendChild(sel);
    filters.appendChild(lab);
  });
  var searchLab = el("label", null, "search");
  var search = el("input");
  search.id = "kw-search";
  search.type = "search";
  search.placeholder = "user, key id, message, rule...";
  searchLab.appendChild(search);
  filters.appendChild(searchLab);
  var shown = el("span");
  shown.id = "kw-shown";
  filters.appendChild(shown);
  var searchTimer = 0;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(update, 120);
  });

  var COLS = [
    { label: "severity", w: 80, text: function (i) { return SEVERITIES[rSev[i]]; }, cls: function (i) { return "sev-" + SEVERITIES[rSev[i]]; }, key: function (i) { return rSev[i]; } },
    { label: "status", w: 80, text: function (i) { return D.statuses[rStatus[i]]; }, key: function (i) { return rStatus[i]; } },
    { label: "rule", w: 80, text: function (i) { return rules[rRule[i]][0]; }, cls: function () { return "mono"; }, key: function (i) { return rules[rRule[i]][0]; } },
    { label: "account", w: 120, text: function (i) { return acct(i); }, cls: function () { return "mono"; }, key: function (i) { return acct(i) || ""; } },
    { label: "user", w: 200, text: function (i) { return user(i); }, key: function (i) { return user(i) || ""; } },
    { label: "credential", w: 110, text: function (i) { return D.credentials[rCred[i]]; }, key: function (i) { return D.credentials[rCred[i]]; } },
    { label: "key id", w: 180, text: function (i) { return keyId(i); }, cls: function () { return "mono"; }, key: function (i) { return keyId(i) || ""; } },
    { label: "age (d)", w: 80, text: function (i) { var v = num(i, 8); return v === null ? "" : fmt(v); }, cls: function () { return "num"; }, key: function (i) { var v = num(i, 8); return v === null ? -1e15 : v; } },
    { label: "unused (d)", w: 90, text: function (i) { var v = num(i, 9); return v === null ? "" : fmt(v); }, cls: function () { return "num"; }, key: function (i) { var v = num(i, 9); return v === null ? -1e15 : v; } },
    { label: "message", w: 420, text: message, key: message }
  ];
  var grid = el("div");
  grid.id = "kw-grid";
  grid.tabIndex = 0;
  var table = el("table");
  table.id = "kw-table";
  var colgroup = el("colgroup");
  var thead = el("thead"), htr = el("tr");
  COLS.forEach(function (c, k) {
    var col = el("col");
    col.width = String(c.w);
    colgroup.appendChild(col);
    var h = el("th", null, c.label);
    h.setAttribute("data-col", String(k));
    h.setAttribute("aria-sort", "none");
    h.tabIndex = 0;
    h.addEventListener("click", function () { sortBy(k); });
    h.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(k); });
    htr.appendChild(h);
  });
  thead.appendChild(htr);
  table.appendChild(colgroup);
  table.appendChild(thead);
  var tbody = el("tbody");
  table.appendChild(tbody);
  grid.appendChild(table);
  app.appendChild(grid);
  var detail = el("section");
  detail.id = "kw-detail";
  detail.hidden = true;
  app.appendChild(detail);

  var order = new Int32Array(N);       // all rows in the current sort order
  for (i = 0; i < N; i++) order[i] = i; // the data comes sorted as the engine sorts it
  var view = order;                    // the rows passing the filters, in order
  var sortCol = -1, sortDir = 1, selected = -1, hay = null;

  function sortBy(k) {
    var t = performance.now();
    sortDir = sortCol === k ? -sortDir : 1;
    sortCol = k;
    var keyOf = COLS[k].key, keys = new Array(N);
    for (var i = 0; i < N; i++) keys[i] = keyOf(i);
    var idx = Array.prototype.slice.call(order);
    idx.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a - b;
    });
    order = Int32Array.from(idx);
    Array.prototype.forEach.call(htr.children, function (h, n) {
      h.setAttribute("aria-sort", n === k ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
    update();
    document.documentElement.setAttribute("data-kw-sort-ms", (performance.now() - t).toFixed(1));
  }

  // The search index: each row's rule, credential, account, user, key id and message, lower
  // case. Built in slices of 5,000 rows while the page is idle after it is drawn, so a first
  // search does not wait for it; a search before it is done finishes it at once.
  var hayBuilt = 0, ruleText = null, credText = null;
  function indexRows(upTo) {
    if (!hay) {
      hay = new Array(N);
      ruleText = rules.map(function (r) { return (r[0] + "\n" + r[1]).toLowerCase(); });
      credText = D.credentials.map(function (c) { return c.toLowerCase(); });
    }
    for (var i = hayBuilt; i < upTo; i++) {
      var row = rows[i];
      hay[i] = ruleText[rRule[i]] + "\n" + credText[rCred[i]] + "\n" +
        ((acct(i) || "") + "\n" + (row[3] || "") + "\n" + (row[5] || "") + "\n" + message(i)).toLowerCase();
    }
    hayBuilt = Math.max(hayBuilt, upTo);
  }
  function haystack() {
    indexRows(N);
    return hay;
  }
  function indexInBackground() {
    if (hayBuilt >= N) return;
    indexRows(Math.min(N, hayBuilt + 5000));
    setTimeout(indexInBackground, 0);
  }

  // Filters: one pass counts, for every facet, the rows that pass all the other filters (the
  // running totals in the menus) and collects the rows that pass them all.
  function update() {
    var t = performance.now();
    var q = search.value.trim().toLowerCase(), h = q ? haystack() : null;
    var nf = FACETS.length, f, k;
    for (k = 0; k < nf; k++) FACETS[k].counts.fill(0);
    var out = new Int32Array(N), n = 0;
    for (var p = 0; p < N; p++) {
      var i = order[p];
      if (h && h[i].indexOf(q) < 0) continue;
      var miss = -1, misses = 0;
      for (k = 0; k < nf; k++) {
        f = FACETS[k];
        if (f.value !== -2 && f.col[i] !== f.value) { misses++; miss = k; if (misses > 1) break; }
      }
      if (misses === 0) {
        out[n++] = i;
        for (k = 0; k < nf; k++) { f = FACETS[k]; f.counts[f.col[i] < 0 ? f.names.length : f.col[i]]++; }
      } else if (misses === 1) {
        f = FACETS[miss];
        f.counts[f.col[i] < 0 ? f.names.length : f.col[i]]++;
      }
    }
    view = out.subarray(0, n);
    FACETS.forEach(fillSelect);
    shown.textContent = fmt(n) + " of " + fmt(N) + " findings shown";
    shown.setAttribute("data-shown", String(n));
    grid.scrollTop = 0;
    render();
    document.documentElement.setAttribute("data-kw-filter-ms", (performance.now() - t).toFixed(1));
  }

  function fillSelect(f) {
    var sel = f.sel, total = 0, k;
    for (k = 0; k < f.counts.length; k++) total += f.counts[k];
    clear(sel);
    var all = el("option", null, "all (" + fmt(total) + ")");
    all.value = "-2";
    sel.appendChild(all);
    for (k = 0; k < f.names.length; k++) {
      if (!f.counts[k] && f.value !== k) continue;
      var o = el("option", null, visible(f.names[k]) + " (" + fmt(f.counts[k]) + ")");
      o.value = String(k);
      sel.appendChild(o);
    }
    if (f.counts[f.names.length] || f.value === -1) {
      var none = el("option", null, "none (" + fmt(f.counts[f.names.length]) + ")");
      none.value = "-1";
      sel.appendChild(none);
    }
    sel.value = String(f.value);
  }

  // The virtual table: only the rows in view (and a margin) are in the DOM.
  var ROW = 26, MARGIN = 20, drawn = "";
  function render() {
    var first = Math.max(0, Math.floor(grid.scrollTop / ROW) - MARGIN);
    var count = Math.ceil(Math.max(grid.clientHeight, window.innerHeight || 0, 600) / ROW) + 2 * MARGIN;
    var last = Math.min(view.length, first + count);
    var sig = first + ":" + last + ":" + view.length + ":" + selected + ":" + (view.length ? view[first] : -1);
    if (sig === drawn) return;
    drawn = sig;
    clear(tbody);
    var top = el("tr", "pad"), tc = el("td");
    tc.colSpan = COLS.length;
    tc.style.height = first * ROW + "px";
    top.appendChild(tc);
    tbody.appendChild(top);
    for (var p = first; p < last; p++) {
      var i = view[p], tr = el("tr", "row" + (i === selected ? " sel" : ""));
      tr.setAttribute("data-index", String(i));
      tr.tabIndex = -1;
      for (var c = 0; c < COLS.length; c++) {
        var col = COLS[c], txt = visible(col.text(i));
        var td = el("td", col.cls ? col.cls(i) : null, txt);
        td.title = txt;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    var bottom = el("tr", "pad"), bc = el("td");
    bc.colSpan = COLS.length;
    bc.style.height = (view.length - last) * ROW + "px";
    bottom.appendChild(bc);
    tbody.appendChild(bottom);
    if (!view.length) {
      var empty = el("tr"), ec = el("td", "muted", N ? "No finding matches the filters." : "No findings.");
      ec.colSpan = COLS.length;
      empty.appendChild(ec);
      tbody.insertBefore(empty, bottom);
    }
  }
  var pending = false;
  grid.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(); });
  });
  window.addEventListener("resize", function () { drawn = ""; render(); });
  tbody.addEventListener("click", function (e) {
    var tr = e.target.closest("tr.row");
    if (tr) showDetail(Number(tr.getAttribute("data-index")));
  });
  grid.addEventListener("keydown", function (e) {
    if (!view.length || (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Enter")) return;
    var p = Math.max(0, Array.prototype.indexOf.call(view, selected));
    if (e.key === "ArrowDown") p = Math.min(view.length - 1, p + 1);
    if (e.key === "ArrowUp") p = Math.max(0, p - 1);
    e.preventDefault();
    showDetail(view[p]);
    var y = p * ROW;
    if (y < grid.scrollTop || y > grid.scrollTop + grid.clientHeight - 2 * ROW) grid.scrollTop = y - ROW;
  });

  // ----- the detail view -----
  function planText(i) {
    var r = rules[rRule[i]], status = D.statuses[rStatus[i]];
    if (status !== "fail") return ["not planned: the finding is " + status + " (plan lists it under not_planned)"];
    if (r[6] && user(i) === ROOT) return ["manual: root's access keys are left to root (steps for the root user)"];
    var out = r[7].map(function (a) {
      return a[0] === "manual" ? "steps for a person (keywarden does not act)" : a[0] + " (" + a[1] + ")";
    });
    var steps = r[8].length ? r[8] : (r[7].some(function (a) { return a[0] === "manual"; }) ? [r[5]] : []);
    steps.forEach(function (s) { out.push("step: " + s.split("{user}").join(user(i) || "the user")); });
    return out;
  }

  function evidenceValue(kind, v) {
    if (kind === "time") return iso(v);
    if (kind === "null") return "null";
    return visible(v);
  }

  function showDetail(i) {
    selected = i;
    drawn = "";
    render();
    clear(detail);
    detail.hidden = false;
    var close = el("button", null, "close");
    close.type = "button";
    close.addEventListener("click", function () { detail.hidden = true; selected = -1; drawn = ""; render(); });
    detail.appendChild(close);
    var r = rules[rRule[i]], row = rows[i];
    detail.appendChild(el("h2", null, visible(r[0] + " " + r[1])));
    detail.setAttribute("data-index", String(i));
    var dl = el("dl");
    function item(label, value, cls) {
      if (value === null || value === undefined || value === "") return;
      dl.appendChild(el("dt", null, label));
      var dd = el("dd", cls, value);
      dd.setAttribute("data-field", label);
      dl.appendChild(dd);
    }
    item("severity", SEVERITIES[rSev[i]], "sev-" + SEVERITIES[rSev[i]]);
    item("status", D.statuses[rStatus[i]]);
    item("message", visible(message(i)));
    item("account", visible(acct(i)), "mono");
    item("user", visible(user(i)));
    item("credential", D.credentials[rCred[i]]);
    item("access key id", visible(keyId(i)), "mono");
    var ex = row[10], ig = row[11], ev = row[12];
    if (ex) item("exemption", visible(ex[0]) + " (" + visible(ex[1]) + (ex[2] ? ", expires " + iso(ex[2]) : "") + ")");
    if (ig) item("ignored exemption", visible(ig[0]) + " (" + visible(ig[1]) + ")");
    if (ev) {
      item("event", visible(ev[2]) + " at " + iso(ev[1]) + ", id " + visible(ev[0]));
      item("event region", visible(ev[3]));
      item("source ip", visible(ev[4]));
      item("user agent", visible(ev[5]));
      item("actor", visible(ev[6]));
    }
    detail.appendChild(dl);
    detail.appendChild(el("h3", null, "Evidence"));
    var et = el("table", "small");
    et.id = "kw-evidence";
    var evid = row[7] || [];
    for (var k = 0; k + 1 < evid.length; k += 2) {
      var key = D.evkeys[evid[k]], tr = el("tr");
      tr.appendChild(el("td", "mono", visible(key[0])));
      tr.appendChild(el("td", null, evidenceValue(key[1], evid[k + 1])));
      et.appendChild(tr);
    }
    detail.appendChild(et);
    detail.appendChild(el("h3", null, "What a plan does"));
    var ul = el("ul");
    ul.id = "kw-plan";
    planText(i).forEach(function (t) { ul.appendChild(el("li", null, visible(t))); });
    detail.appendChild(ul);
    detail.appendChild(el("h3", null, "How to fix"));
    detail.appendChild(el("p", null, visible(r[5])));
    var tl = timelineOf(keyId(i));
    if (tl) {
      detail.appendChild(el("h3", null, "Timeline of " + visible(tl[0])));
      detail.appendChild(timelineList(tl));
    }
    detail.appendChild(el("h3", null, "The rule's documentation (keywarden rule " + visible(r[0]) + ")"));
    detail.appendChild(el("pre", null, visibleLines(r[4])));
  }

  // ----- trail runs: a timeline per key -----
  var timelineIndex = new Map();
  (D.timelines || []).forEach(function (t) { timelineIndex.set(t[0], t); });
  function timelineOf(id) { return id === null ? null : timelineIndex.get(id) || null; }
  function timelineList(t) {
    var ul = el("ul", "tl");
    t[3].forEach(function (e) {
      var li = el("li", e[3] ? "alert" : null);
      li.appendChild(el("span", "t mono", iso(e[0])));
      li.appendChild(el("b", null, e[1] + " "));
      li.appendChild(document.createTextNode(visible(e[2])));
      ul.appendChild(li);
    });
    return ul;
  }
  if (D.timelines && D.timelines.length) {
    var ts = el("section");
    ts.id = "kw-timelines";
    ts.appendChild(el("h2", null, "Key timelines (" + fmt(D.timelines.length) + " key(s) named by findings)"));
    D.timelines.forEach(function (t) {
      var h = el("h3", "mono", visible(t[0]));
      var who = [t[1] ? "owner " + visible(t[1]) : "owner unknown", t[2] ? "account " + visible(t[2]) : ""].join(" ");
      h.appendChild(el("span", "muted", "  " + who));
      ts.appendChild(h);
      ts.appendChild(timelineList(t));
    });
    app.appendChild(ts);
  }

  update();
  var ready = performance.now();
  document.documentElement.setAttribute("data-kw-parse-ms", (tParsed - t0).toFixed(1));
  document.documentElement.setAttribute("data-kw-ready-ms", (ready - t0).toFixed(1));
  // Since navigation start: the file read and parsed, the data parsed, the page drawn.
  document.documentElement.setAttribute("data-kw-ready-at", ready.toFixed(1));
  document.documentElement.setAttribute("data-kw-ready", "1");
  setTimeout(indexInBackground, 50);
})();
