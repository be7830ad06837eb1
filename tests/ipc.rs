//! The commands through Tauri's own IPC path, in process: a mock runtime
//! (`tauri::test`) with the app's real configuration and capabilities, so a
//! call goes through the permission check, argument decoding and the
//! `{code, message}` error shape exactly as from the webview.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use signin::store::MemoryStore;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tessera_desktop::desktop::{Desktop, Options, Starting};
use wait::within;

use testkit as wait;

fn request(command: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: command.to_owned(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: tauri::http::HeaderMap::default(),
        invoke_key: INVOKE_KEY.to_owned(),
    }
}

struct Harness {
    _app: tauri::App<MockRuntime>,
    window: tauri::WebviewWindow<MockRuntime>,
    _folder: tempfile::TempDir,
}

impl Harness {
    async fn new(stack: &demo::DemoStack) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let env: HashMap<&str, String> =
            [("OKTA_ISSUER", stack.issuer().to_owned()), ("ITEMS_API_URL", stack.items_api().to_string())]
                .into_iter()
                .collect();
        let env: HashMap<String, String> = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let options = Options {
            config_file: Some(folder.path().join("tessera.toml")),
            accounts_file: Some(folder.path().join("accounts.json")),
            env: Arc::new(move |name| env.get(name).cloned()),
            store: Some(Arc::new(MemoryStore::new())),
            log_dir: Some(folder.path().join("logs")),
        };
        let desktop = within("the desktop core starting", Desktop::start(options)).await.unwrap();
        let app = mock_builder()
            .invoke_handler(tessera_desktop::handler())
            .manage(Starting::ready(desktop))
            .build(tauri::generate_context!("tauri.conf.json", test = true))
            .unwrap();
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        Self { _app: app, window, _folder: folder }
    }

    /// Calls `command` as the webview would (on a blocking thread: the
    /// mock waits for the answer).
    async fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        let (window, request) = (self.window.clone(), request(command, args));
        let answering = tokio::task::spawn_blocking(move || {
            get_ipc_response(&window, request).map(|body| body.deserialize::<Value>().unwrap())
        });
        within(&format!("the answer to the IPC command {command}"), answering).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answer_through_the_ipc_with_typed_errors_and_no_tokens() {
    let stack = within("the demo stack starting", demo::DemoStack::start()).await.unwrap();
    let harness = Harness::new(&stack).await;

    let info = harness.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["mode"], "configured");
    assert_eq!(info["issuer"], stack.issuer());
    assert_eq!(info["redirect"], "loopback");
    assert_eq!(info["keyring"]["kind"], "keyring");
    // About: versions and the log folder.
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["tauriVersion"], tauri::VERSION);
    assert!(info["logFolder"].as_str().is_some_and(|f| f.ends_with("logs")), "{info}");

    let state = harness.call("session_state", json!({})).await.unwrap();
    assert_eq!(state, json!({ "accounts": [], "active": null, "signingIn": false, "offline": null }));
    assert_eq!(harness.call("session_details", json!({})).await.unwrap(), Value::Null);

    // Errors cross as {code, message}.
    let error = harness.call("list_items", json!({})).await.unwrap_err();
    assert_eq!(error["code"], "sign_in_required", "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    let error = harness.call("switch_account", json!({ "id": "nobody" })).await.unwrap_err();
    assert_eq!(error["code"], "no_account", "{error}");
    let bad = json!({ "settings": {
        "issuer": stack.issuer(), "clientId": "", "scopes": "openid", "redirect": "loopback",
        "prompt": "", "itemsApi": stack.items_api().as_str() } });
    let error = harness.call("save_settings", bad).await.unwrap_err();
    assert_eq!((error["code"].as_str(), error["field"].as_str()), (Some("settings_invalid"), Some("clientId")));

    // Arguments are checked by their types.
    let error = harness.call("create_item", json!({ "item": { "name": 5 } })).await.unwrap_err();
    assert!(error.to_string().contains("invalid"), "{error}");

    let settings = harness.call("get_settings", json!({})).await.unwrap();
    assert_eq!(settings["source"], "environment");
    assert_eq!(settings["deepLinkScheme"], "com.example.tessera");
    assert_eq!(settings["dpop"], false, "DPoP is off unless configured");

    // Nothing any command answers has a field that could carry a token.
    for answer in [info, state, settings] {
        let text = answer.to_string().to_lowercase();
        assert!(!text.contains("token\""), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webview_cannot_call_plugins_or_unknown_commands() {
    let stack = within("the demo stack starting", demo::DemoStack::start()).await.unwrap();
    let harness = Harness::new(&stack).await;
    // The opener is for the Rust side only: the webview cannot open URLs or files.
    let error = harness.call("plugin:opener|open_url", json!({ "url": "https://example.com" })).await.unwrap_err();
    assert!(error.to_string().contains("not allowed"), "{error}");
    let error = harness.call("plugin:deep-link|get_current", json!({})).await.unwrap_err();
    assert!(error.to_string().contains("not allowed"), "{error}");
    let error = harness.call("no_such_command", json!({})).await.unwrap_err();
    assert!(!error.is_null());
}

/// Issue 16, item 3: the settings screen's *Check* answers `tessera
/// doctor`'s report, camelCase, through the permission check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_check_answers_the_doctor_report() {
    let stack = within("the demo stack starting", demo::DemoStack::start()).await.unwrap();
    let harness = Harness::new(&stack).await;
    let report = harness.call("check_settings", json!({})).await.unwrap();
    let checks = report["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, app::doctor::CheckName::ALL.map(app::doctor::CheckName::as_str), "every check, in order");
    for check in checks {
        assert_eq!(check["ok"], true, "{check}");
        assert!(check["detail"].as_str().is_some_and(|d| !d.is_empty()), "{check}");
    }
    let register = &report["register"];
    assert!(register["appType"].as_str().is_some_and(|t| t.starts_with("Native")), "{register}");
    let uris = register["redirectUris"].as_array().unwrap();
    assert!(uris.contains(&json!("http://127.0.0.1:8765/callback")), "{register}");
    assert!(register["postLogoutRedirectUris"].is_array() && register["grantTypes"].is_array(), "{register}");
}
