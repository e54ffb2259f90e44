use super::{event_finding, Detector};
use crate::cloudtrail::event::{Event, SIGNIN};
use crate::finding::{CredentialKind, Finding};
use crate::rules::{declare_rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a successful console sign-in by an IAM user or root without MFA.
    ///
    /// ## Why it matters
    /// A password-only sign-in means a phished or reused password is enough to enter the console.
    /// Each one is either a user without MFA (PWD002 in the audit) or an MFA that was bypassed.
    ///
    /// ## How it decides
    /// `eventName` is ConsoleLogin from signin.amazonaws.com, `responseElements.ConsoleLogin` is
    /// `Success`, `additionalEventData.MFAUsed` is `No`, and the identity is an IAMUser or Root.
    /// Federated and SSO sign-ins (AssumedRole) are left out: their MFA happens at the identity
    /// provider and CloudTrail always says No for them.
    ///
    /// ## How to fix
    /// Require MFA for the user (see PWD002), and check the sign-in's source IP and what the
    /// session did.
    ///
    /// ## Fix safety
    /// `manual`: a detection reports what happened, and whether it was expected is for a person to
    /// say. When a long-term (AKIA) key made the call, the plan's first step is to contain it
    /// (`keywarden contain KEY`, which asks before it writes); the next is How to fix's first
    /// paragraph.
    ///
    /// ## Standards
    /// CIS AWS Foundations 4.2 (console sign-in without MFA metric filter); SigmaHQ
    /// aws_cloudtrail_console_login_success_without_mfa; Stratus Red Team
    /// console-login-without-mfa.
    pub struct ConsoleLoginWithoutMfa {
        code: "EVT007",
        name: "console-login-without-mfa",
        severity: Medium,
        scope: Event,
        summary: "successful ConsoleLogin with MFAUsed = No",
        live_data: [],
        fix: ContainKey,
    }
}

impl Detector for ConsoleLoginWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn on_event(&self, event: &Event, out: &mut Vec<Finding>) {
        if !event.is(SIGNIN, "ConsoleLogin")
            || event.console_login.as_deref() != Some("Success")
            || event.mfa_used.as_deref() != Some("No")
        {
            return;
        }
        if !matches!(
            event.identity.kind.as_deref(),
            Some("IAMUser") | Some("Root")
        ) {
            return;
        }
        let user = event.identity.acting_user();
        out.push(
            event_finding(
                &Self::META,
                event,
                user,
                CredentialKind::Mfa,
                None,
                format!(
                    "{} signed in to the console without MFA from {}",
                    user.unwrap_or("(user not logged)"),
                    event.source_ip.as_deref().unwrap_or("(IP not logged)")
                ),
            )
            .with("mfa_used", "No"),
        );
    }
}
