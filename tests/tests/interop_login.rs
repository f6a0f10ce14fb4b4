//! Interop cases against a real tgtd: login refusals, one-way and mutual CHAP, redirects.

mod interop_support;

use initiator::error::{Error, LoginError};
use initiator::session::{Chap, MutualChap};
use interop_support::{Lab, assert_same, config, connect, leak, pattern, read, read_file_range};
use iscsi_boot_tests::proxy::FaultProxy;
use iscsi_boot_tests::tgtd::Tgtd;
use std::time::{Duration, Instant};

const USER: &str = "boot-initiator";
const SECRET: &str = "initiator-secret-1";
const TARGET_USER: &str = "boot-target";
const TARGET_SECRET: &str = "target-secret-22";

/// Logs in through a counting proxy; returns the outcome, the connections made and the time.
fn login_via_proxy(
    lab: &Lab,
    iqn: &str,
    chap: Option<Chap<'static>>,
) -> (Result<(), Error>, usize, Duration) {
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    let mut cfg = config(proxy.addr(), iqn, 1);
    cfg.session.chap = chap;
    let started = Instant::now();
    let outcome = connect(&cfg).map(|mut c| {
        c.read_capacity().expect("capacity after login");
        c.logout().expect("logout");
    });
    (outcome, proxy.connections(), started.elapsed())
}

fn chap(user: &str, secret: &str) -> Chap<'static> {
    Chap::new(leak(user), leak(secret).as_bytes())
}

fn mutual(user: &str, secret: &str) -> MutualChap<'static> {
    MutualChap {
        user: leak(user),
        secret: leak(secret).as_bytes(),
        challenge: *b"0123456789abcdef",
        id: 7,
    }
}

/// The status of the last Login Response the proxy saw.
fn last_login_status(proxy: &FaultProxy) -> u16 {
    proxy
        .recorded()
        .iter()
        .filter(|r| !r.from_initiator && r.opcode() == 0x23)
        .map(|r| u16::from_be_bytes([r.header[36], r.header[37]]))
        .next_back()
        .expect("a login response")
}

#[test]
fn case_04_unknown_target_and_acl_refusal_are_distinct_and_not_retried() {
    let Some(lab) = Lab::configure("case04", 64 << 10, 512, |lab| {
        // Only an initiator of another name may log in.
        lab.tgtd
            .bind_name(1, "iqn.2026-01.org.example:someone-else")
            .unwrap();
    }) else {
        return;
    };
    let proxy = FaultProxy::start(lab.tgtd.portal()).unwrap();
    proxy.set_recording(true);
    let started = Instant::now();
    let unknown = connect(&config(
        proxy.addr(),
        "iqn.2026-01.org.iscsi-boot.test:nope",
        1,
    ));
    assert_eq!(last_login_status(&proxy), 0x0203, "tgtd: target not found");
    assert_eq!(unknown.map(drop), Err(Error::Login(LoginError::NotFound)));
    assert_eq!(proxy.connections(), 1, "a refused login is not retried");
    assert!(started.elapsed() < Duration::from_secs(2));

    // tgtd hides a target from initiators its ACL refuses: it answers 0x0203 as well, so the
    // error follows the wire status (0x0202 would map to Forbidden).
    let refused = connect(&config(proxy.addr(), &lab.iqn, 1)).map(drop);
    let status = last_login_status(&proxy);
    assert!(
        matches!(status, 0x0202 | 0x0203),
        "ACL refusal status {status:#06x}"
    );
    let expected = if status == 0x0202 {
        LoginError::Forbidden
    } else {
        LoginError::NotFound
    };
    assert_eq!(refused, Err(Error::Login(expected)));
    assert_eq!(proxy.connections(), 2, "again exactly one connection");

    // Authentication refusal is a different error again.
    lab.tgtd.bind_all(1).unwrap();
    lab.tgtd.new_account(USER, SECRET).unwrap();
    lab.tgtd.bind_incoming_account(1, USER).unwrap();
    let mut cfg = config(proxy.addr(), &lab.iqn, 1);
    cfg.session.chap = Some(chap(USER, "not-the-secret-9"));
    assert_eq!(
        connect(&cfg).map(drop),
        Err(Error::Login(LoginError::AuthenticationFailed))
    );
}

fn one_way_lab(case: &str) -> Option<Lab> {
    let lab = Lab::configure(case, 256 << 10, 512, |lab| {
        lab.tgtd.new_account(USER, SECRET).unwrap();
        lab.tgtd.bind_incoming_account(1, USER).unwrap();
    })?;
    lab.open_to_all();
    Some(lab)
}

#[test]
fn case_05_one_way_chap() {
    let Some(lab) = one_way_lab("case05") else {
        return;
    };
    let (ok, conns, _) = login_via_proxy(&lab, &lab.iqn, Some(chap(USER, SECRET)));
    assert_eq!(ok, Ok(()), "right user and secret");
    // tgt reads CHAP_A=7 as SHA-1; the driver then offers the list once more without 7.
    assert!(conns <= 2, "{conns} connections");

    for (user, secret, what) in [
        (USER, "not-the-secret-9", "wrong secret"),
        ("somebody-else", SECRET, "wrong user"),
    ] {
        let (outcome, conns, took) = login_via_proxy(&lab, &lab.iqn, Some(chap(user, secret)));
        assert_eq!(
            outcome,
            Err(Error::Login(LoginError::AuthenticationFailed)),
            "{what}: status 0x0201"
        );
        assert!(
            conns <= 2,
            "{what}: at most the one CHAP_A fallback, no retry storm ({conns})"
        );
        assert!(took < Duration::from_secs(2), "{what}: no hang ({took:?})");
    }

    // No credentials at all against a target that requires CHAP.
    let (outcome, conns, _) = login_via_proxy(&lab, &lab.iqn, None);
    assert!(matches!(outcome, Err(Error::Login(_))), "{outcome:?}");
    assert!(conns <= 2);
}

fn mutual_lab(case: &str) -> Option<Lab> {
    let lab = Lab::configure(case, 256 << 10, 512, |lab| {
        lab.tgtd.new_account(USER, SECRET).unwrap();
        lab.tgtd.bind_incoming_account(1, USER).unwrap();
        lab.tgtd.new_account(TARGET_USER, TARGET_SECRET).unwrap();
        lab.tgtd.bind_outgoing_account(1, TARGET_USER).unwrap();
    })?;
    lab.open_to_all();
    Some(lab)
}

#[test]
fn case_06_mutual_chap_and_a_target_with_the_wrong_secret() {
    let Some(lab) = mutual_lab("case06") else {
        return;
    };
    let both = chap(USER, SECRET).with_mutual(mutual(TARGET_USER, TARGET_SECRET));
    let (ok, _, _) = login_via_proxy(&lab, &lab.iqn, Some(both));
    assert_eq!(ok, Ok(()), "both sides proved their secrets");

    // We expect a different target secret: the target's answer must be refused by us.
    let wrong = chap(USER, SECRET).with_mutual(mutual(TARGET_USER, "other-target-secret"));
    let (outcome, conns, took) = login_via_proxy(&lab, &lab.iqn, Some(wrong));
    assert_eq!(
        outcome,
        Err(Error::Login(LoginError::TargetAuthenticationFailed))
    );
    assert!(
        conns <= 2,
        "no retry storm after the target failed authentication ({conns})"
    );
    assert!(took < Duration::from_secs(2));
}

/// The refusals a login that requires authentication may end in.
fn is_auth_refusal(outcome: &Result<(), Error>) -> bool {
    matches!(
        outcome,
        Err(Error::Login(
            LoginError::AuthenticationSkipped
                | LoginError::AuthenticationFailed
                | LoginError::TargetAuthenticationFailed
        ))
    )
}

#[test]
fn case_07_required_authentication_the_target_skips_is_refused() {
    // One-way CHAP only at the target (no outgoing account), and we require mutual CHAP: the
    // target cannot authenticate itself, so no session may result.
    let Some(lab) = one_way_lab("case07") else {
        return;
    };
    let with_mutual = chap(USER, SECRET).with_mutual(mutual(TARGET_USER, TARGET_SECRET));
    let (outcome, conns, took) = login_via_proxy(&lab, &lab.iqn, Some(with_mutual));
    assert!(is_auth_refusal(&outcome), "{outcome:?}");
    assert!(conns <= 2, "{conns} connections");
    assert!(took < Duration::from_secs(2));

    // No accounts at all: the target does not authenticate, and we require CHAP. (tgtd answers
    // a CHAP-only offer with 0x0201 rather than AuthMethod=None; either way, no session.)
    let Some(open) = Lab::new("case07-open", 256 << 10, 512) else {
        return;
    };
    open.open_to_all();
    let (outcome, conns, _) = login_via_proxy(&open, &open.iqn, Some(chap(USER, SECRET).require()));
    assert!(is_auth_refusal(&outcome), "{outcome:?}");
    assert!(conns <= 2);
    let with_mutual = chap(USER, SECRET).with_mutual(mutual(TARGET_USER, TARGET_SECRET));
    let (outcome, _, _) = login_via_proxy(&open, &open.iqn, Some(with_mutual));
    assert!(is_auth_refusal(&outcome), "{outcome:?}");
}

/// A tgtd on [::1] serving `iqn` with a LUN of known bytes.
fn ipv6_backend(iqn: &str, seed: u64) -> Option<(Tgtd, Vec<u8>)> {
    let back = Tgtd::start_v6().ok()?;
    back.new_target(1, iqn).unwrap();
    let data = pattern(256 << 10, seed);
    back.add_lun_with(1, 1, &data, 512).unwrap();
    back.bind_all(1).unwrap();
    Some((back, data))
}

#[test]
fn case_18_temporary_and_permanent_redirect_to_ipv6() {
    let Some(front) = Lab::new("case18", 256 << 10, 512) else {
        return;
    };
    front.open_to_all();
    let (back, data) = ipv6_backend(&front.iqn, 18).expect("tgtd on [::1]");

    front.tgtd.redirect(1, back.portal(), false).unwrap();
    let mut client = connect(&config(front.tgtd.portal(), &front.iqn, 1)).expect("temporary");
    assert_eq!(
        client.portal(),
        front.tgtd.portal(),
        "a temporary redirect keeps the home portal"
    );
    assert_same(
        &read(&mut client, 0, data.len()),
        &data,
        "served by the [::1] target",
    );
    client.logout().unwrap();

    front.tgtd.redirect(1, back.portal(), true).unwrap();
    let mut client = connect(&config(front.tgtd.portal(), &front.iqn, 1)).expect("permanent");
    assert_eq!(
        client.portal(),
        back.portal(),
        "a permanent redirect moves the home portal"
    );
    assert_same(
        &read(&mut client, 0, data.len()),
        &data,
        "served by the [::1] target",
    );
    client.logout().unwrap();
    assert_same(
        &read_file_range(&front.backing, 0, 512),
        &front.backing_bytes(0, 512),
        "front LUN untouched",
    );
}

#[test]
fn case_18_redirect_loop_is_bounded() {
    let Some(lab) = Lab::new("case18-loop", 64 << 10, 512) else {
        return;
    };
    lab.open_to_all();
    // tgtd does not redirect a login to the portal it arrived on, so two daemons redirect to
    // each other.
    let (back, _) = ipv6_backend(&lab.iqn, 181).expect("tgtd on [::1]");
    lab.tgtd.redirect(1, back.portal(), false).unwrap();
    back.redirect(1, lab.tgtd.portal(), false).unwrap();
    let started = Instant::now();
    let outcome = connect(&config(lab.tgtd.portal(), &lab.iqn, 1)).map(drop);
    assert_eq!(outcome, Err(Error::Login(LoginError::RedirectLoop)));
    assert!(started.elapsed() < Duration::from_secs(3));
}
