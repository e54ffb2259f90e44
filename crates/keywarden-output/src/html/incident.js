// keywarden's incident report page (`contain --format html`): draws the incident report's JSON
// document (docs/incident-report.md) from #kw-data. Every value in it is attacker-controlled (the
// owner's name, AWS's messages, every CloudTrail field): it reaches the page only as
// textContent, never as markup, and the characters that reorder or hide text are shown as
// visible escapes.
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("kw-data").textContent);
  var UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  function visible(s) {
    if (s === null || s === undefined) return "";
    return String(s).replace(UNSAFE, function (c) { return "\\u{" + c.charCodeAt(0).toString(16) + "}"; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function moment(m) {
    if (!m) return "none in the logs read";
    return visible(m.time) + " " + visible(m.event_name) + " (" + visible(m.event_id) + ") from " +
      (m.source_ip ? visible(m.source_ip) : "unknown address");
  }
  // A table of `rows`, each cell text (or an element).
  function table(id, heads, rows, rowClass) {
    var t = el("table", "small");
    t.id = id;
    var h = el("tr");
    heads.forEach(function (x) { h.appendChild(el("th", null, x)); });
    t.appendChild(h);
    rows.forEach(function (r, k) {
      var tr = el("tr", rowClass ? rowClass(k) : null);
      r.forEach(function (c) {
        var td = el("td");
        if (c && c.nodeType) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    return t;
  }
  function field(dl, label, value, id) {
    dl.appendChild(el("dt", null, label));
    var dd = el("dd", null, value);
    if (id) dd.id = id;
    dl.appendChild(dd);
  }

  var app = document.body.appendChild(el("main"));
  app.id = "kw-app";
  app.appendChild(el("h1", null, "keywarden incident report"));
  var status = el("p", D.status === "contained" ? "ok" : "alert",
    "Key " + visible(D.access_key_id) + " of " + visible(D.owner) + ": " + visible(D.status));
  status.id = "kw-status";
  app.appendChild(status);
  var dl = el("dl", "meta");
  field(dl, "key", visible(D.access_key_id), "kw-key");
  field(dl, "owner", visible(D.owner), "kw-owner");
  field(dl, "account", visible(D.account));
  field(dl, "contained by", visible(D.contained_by.arn) + " (key " + visible(D.contained_by.access_key_id) + ")");
  field(dl, "run", visible(D.run_id));
  field(dl, "started", visible(D.started_at));
  field(dl, "finished", visible(D.finished_at));
  field(dl, "sessions issued before this are denied", visible(D.sessions_revoked_before));
  field(dl, "quarantine lifts at", visible(D.quarantine_until) + " (" + D.quarantine_hours + " h)");
  field(dl, "undo", visible(D.undo));
  app.appendChild(dl);

  app.appendChild(el("h2", null, "Steps"));
  app.appendChild(table("kw-steps", ["step", "action", "target", "outcome", "call", "at", "detail"],
    D.steps.map(function (s) {
      return [visible(s.action_id), visible(s.kind), visible(s.target), visible(s.outcome),
        visible(s.call || "-"), visible(s.started_at || "-"), visible(s.detail)];
    }),
    function (k) { var o = D.steps[k].outcome; return o === "done" || o === "already-done" ? null : "alert"; }));

  app.appendChild(el("h2", null, "Policies"));
  D.policies.forEach(function (p) {
    app.appendChild(el("h3", null, visible(p.policy_name) + " on " + visible(p.user) +
      " (" + visible(p.action_id) + ", bound " + visible(p.condition_time) + ", " +
      (p.in_place ? "in place" : "not in place") + ")"));
    // The document exactly as sent: shown as text in a <pre>, never parsed as markup.
    app.appendChild(el("pre", "policy", visible(p.document)));
  });
  if (!D.policies.length) app.appendChild(el("p", "muted", "No policy was put."));

  app.appendChild(el("h2", null, "What CloudTrail says"));
  var tr = D.trail;
  if (!tr) {
    app.appendChild(el("p", "muted", "No logs were read (contain --trail SOURCE... reads them)."));
  } else {
    var tdl = el("dl", "meta");
    field(tdl, "sources", tr.sources.map(visible).join(", "));
    field(tdl, "events read", String(tr.events_read));
    field(tdl, "bad records", String(tr.bad_records));
    field(tdl, "key seen", tr.key_seen ? "yes" : "no");
    field(tdl, "key's first use", moment(tr.key_first_use));
    field(tdl, "key's last use", moment(tr.key_last_use));
    field(tdl, "key revoked in the logs", moment(tr.key_revoked));
    if (tr.error) field(tdl, "error", visible(tr.error), "kw-trail-error");
    app.appendChild(tdl);
    app.appendChild(el("h3", null, "Sessions the key minted (" + tr.sessions.length + ")"));
    app.appendChild(table("kw-sessions",
      ["session", "parent", "minted with", "minted at", "from", "actor", "calls", "failed", "after revocation", "events"],
      tr.sessions.map(function (s) {
        return [visible(s.access_key_id), visible(s.parent), visible(s.minted_with), visible(s.minted_at),
          visible(s.source_ip || "-"), visible(s.actor || "-"), String(s.calls), String(s.failed_calls),
          s.uses_after_key_revoked === null || s.uses_after_key_revoked === undefined ? "-" : String(s.uses_after_key_revoked),
          s.events.map(function (e) { return visible(e.event_name) + " x" + e.count; }).join(", ")];
      }),
      function (k) { return tr.sessions[k].uses_after_key_revoked ? "alert" : null; }));
  }
  document.documentElement.setAttribute("data-kw-ready", "1");
})();
