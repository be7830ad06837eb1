//! The device authorization grant (RFC 8628): polling, `slow_down`,
//! `access_denied`, `expired_token`, cancellation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dev_idp::testing::{Browser as Driver, Page};
use signin::flow::SigninError;
use signin::flow::device::{self, Sleep};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::{ALICE, ALICE_SUB, client_id, scopes, start, start_with, within};

/// The person approves (or denies) the device on the verification page.
async fn answer(url: &Url, approve: bool) {
    let driver = Driver::new();
    let Page::Device(form) = within("a dev-idp page", driver.open(url.as_str())).await.unwrap() else {
        panic!("expected the device page")
    };
    let page = if approve {
        within("a dev-idp form", driver.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "approve"))
            .await
            .unwrap()
    } else {
        within("a dev-idp form", driver.submit(&form, &[], "deny")).await.unwrap()
    };
    assert!(matches!(page, Page::Other { .. }), "{page:?}");
}

/// A sleep that records what it was asked and waits a few real milliseconds.
fn short_sleep(asked: Arc<Mutex<Vec<Duration>>>) -> Sleep {
    Arc::new(move |duration| {
        asked.lock().unwrap().push(duration);
        Box::pin(tokio::time::sleep(Duration::from_millis(10)))
    })
}

#[tokio::test]
async fn the_device_flow_polls_until_approved() {
    let env = start_with(|c| c.device.poll_interval_secs = 0).await;
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    assert_eq!(authorization.user_code.len(), 9, "XXXX-XXXX");
    assert!(authorization.verification_uri.as_str().ends_with("/activate"));
    let complete = authorization.verification_uri_complete.clone().unwrap();
    assert!(complete.as_str().contains(&authorization.user_code));
    let asked = Arc::default();
    let polling = tokio::spawn({
        let asked = Arc::clone(&asked);
        async move {
            device::finish(&env.provider, authorization, short_sleep(asked), &CancellationToken::new())
                .await
                .map(|s| (s, env))
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!polling.is_finished(), "pending until approved");
    within("approving at dev-idp", answer(&complete, true)).await;
    let (signed_in, _env) = tokio::time::timeout(Duration::from_secs(10), polling)
        .await
        .expect("the device sign-in ends within 10 s of the approval")
        .unwrap()
        .unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert!(signed_in.refresh_token.is_some());
    assert!(asked.lock().unwrap().len() >= 2, "it polled several times");
}

#[tokio::test]
async fn slow_down_adds_five_seconds() {
    let env = start().await; // the default interval: 5 s
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    assert_eq!(authorization.interval, Duration::from_secs(5));
    let complete = authorization.verification_uri_complete.clone().unwrap();
    let asked: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let sleep: Sleep = {
        let asked = asked.clone();
        let clock = env.clock.clone();
        Arc::new(move |duration| {
            let calls = {
                let mut asked = asked.lock().unwrap();
                asked.push(duration);
                asked.len()
            };
            let clock = clock.clone();
            let complete = complete.clone();
            Box::pin(async move {
                match calls {
                    // The first wait is cut short: the next poll is too early.
                    1 => {}
                    _ => {
                        within("approving at dev-idp", answer(&complete, true)).await;
                        clock.advance(duration + Duration::from_secs(1));
                    }
                }
            })
        })
    };
    let signed_in =
        within("the device sign-in", device::finish(&env.provider, authorization, sleep, &CancellationToken::new()))
            .await
            .unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert_eq!(*asked.lock().unwrap(), [Duration::from_secs(5), Duration::from_secs(10)]);
}

#[tokio::test]
async fn a_denied_device_is_access_denied() {
    let env = start_with(|c| c.device.poll_interval_secs = 0).await;
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    within("approving at dev-idp", answer(&authorization.verification_uri_complete.clone().unwrap(), false)).await;
    let error = within(
        "the device sign-in",
        device::finish(&env.provider, authorization, short_sleep(Arc::default()), &CancellationToken::new()),
    )
    .await;
    let error = error.unwrap_err();
    assert!(matches!(error, SigninError::DeviceDenied), "{error:?}");
    assert!(error.to_string().contains("refused"), "{error}");
}

#[tokio::test]
async fn an_expired_code_is_expired_token() {
    let env = start_with(|c| c.device.poll_interval_secs = 0).await;
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    let clock = env.clock.clone();
    let sleep: Sleep = Arc::new(move |_| {
        clock.advance(Duration::from_secs(601));
        Box::pin(async {})
    });
    let error =
        within("the device sign-in", device::finish(&env.provider, authorization, sleep, &CancellationToken::new()))
            .await
            .unwrap_err();
    assert!(matches!(error, SigninError::DeviceExpired), "{error:?}");
}

#[tokio::test]
async fn polling_can_be_cancelled() {
    let env = start_with(|c| c.device.poll_interval_secs = 0).await;
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        device::finish(&env.provider, authorization, short_sleep(Arc::default()), &cancel),
    )
    .await
    .expect("polling ends within 5 s of the cancellation");
    assert!(matches!(result, Err(SigninError::Cancelled)), "{:?}", result.map(|s| s.key));
}

#[tokio::test]
async fn a_refused_scope_is_a_token_endpoint_error() {
    let env = start().await;
    let error = within(
        "the device authorization request",
        device::start(&env.provider, &client_id(), &["openid".to_owned(), "items:admin".to_owned()]),
    )
    .await
    .unwrap_err();
    assert!(matches!(&error, SigninError::TokenEndpoint { error, .. } if error == "invalid_scope"), "{error:?}");
}

/// dev-idp limiting its token endpoint to one request a window.
async fn start_limited(window_secs: u64) -> crate::support::Env {
    start_with(|c| {
        c.device.poll_interval_secs = 0;
        c.rate_limits.enabled = true;
        c.rate_limits.window_secs = window_secs;
        c.rate_limits.endpoints.insert("token".to_owned(), 1);
    })
    .await
}

#[tokio::test]
async fn a_rate_limited_poll_waits_for_the_providers_reset_and_the_sign_in_goes_on() {
    let env = start_limited(60).await;
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    let complete = authorization.verification_uri_complete.clone().unwrap();
    let now = env.idp.provider().now_unix();
    let reset_in = Duration::from_secs(60 - now % 60);
    let asked: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let sleep: Sleep = {
        let (asked, clock) = (asked.clone(), env.clock.clone());
        Arc::new(move |duration| {
            asked.lock().unwrap().push(duration);
            let (clock, complete) = (clock.clone(), complete.clone());
            Box::pin(async move {
                // The interval is 0 s: a longer wait is the provider's. The
                // person approves meanwhile, and the wait passes.
                if duration > Duration::ZERO {
                    within("approving at dev-idp", answer(&complete, true)).await;
                    clock.advance(duration);
                }
            })
        })
    };
    let told: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let on_wait = {
        let told = told.clone();
        move |wait| told.lock().unwrap().push(wait)
    };
    let signed_in = within(
        "the device sign-in",
        device::finish_reporting(&env.provider, authorization, sleep, &CancellationToken::new(), &on_wait),
    )
    .await
    .expect("a 429 while polling does not end the sign-in");
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert_eq!(*told.lock().unwrap(), [reset_in], "told the wait to the window's end, once");
    let asked = asked.lock().unwrap();
    assert_eq!(asked.iter().filter(|d| !d.is_zero()).collect::<Vec<_>>(), [&reset_in], "waited exactly that");
}

#[tokio::test]
async fn a_rate_limit_outlasting_the_code_ends_the_sign_in_saying_when() {
    let env = start_limited(3600).await;
    // Just past the start of a window of an hour: its reset outlasts the code's ten minutes.
    let now = env.idp.provider().now_unix();
    env.clock.set(std::time::UNIX_EPOCH + Duration::from_secs(now - now % 3600 + 3600 + 1));
    let authorization =
        within("the device authorization request", device::start(&env.provider, &client_id(), &scopes()))
            .await
            .unwrap();
    let on_wait = |wait| panic!("a wait past the code's expiry is not waited for ({wait:?})");
    let error = within(
        "the device sign-in",
        device::finish_reporting(
            &env.provider,
            authorization,
            short_sleep(Arc::default()),
            &CancellationToken::new(),
            &on_wait,
        ),
    )
    .await
    .unwrap_err();
    let SigninError::RateLimited(limited) = &error else { panic!("{error:?}") };
    assert_eq!(limited.wait, Duration::from_secs(3599));
    assert_eq!(error.to_string(), "the provider is limiting requests; try again in 60 min");
}
