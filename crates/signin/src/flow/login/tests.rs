use super::*;

#[test]
fn callbacks_refuse_repeated_parameters_and_hide_the_code() {
    let callback = Callback::from_query("code=secret-code&state=s1&iss=https%3A%2F%2Fidp").unwrap();
    assert_eq!(callback.state(), Some("s1"));
    assert!(callback.is_response());
    assert!(!format!("{callback:?}").contains("secret-code"));
    assert!(matches!(Callback::from_query("code=a&code=b&state=s"), Err(SigninError::BadCallback(_))));
    assert!(matches!(Callback::from_query("state=a&state=b"), Err(SigninError::BadCallback(_))));
    assert!(!Callback::from_query("state=only").unwrap().is_response());
}

#[test]
fn error_codes_get_their_wire_names() {
    assert_eq!(code_name(&openidconnect::core::CoreErrorResponseType::InvalidGrant), "invalid_grant");
    assert_eq!(code_name(&openidconnect::DeviceCodeErrorResponseType::AccessDenied), "access_denied");
}

#[test]
fn an_error_answer_keeps_the_providers_description_once() {
    let callback = Callback::from_query("error=access_denied&error_description=The+user+cancelled&state=s").unwrap();
    assert!(callback.is_response());
    assert_eq!(callback.error.as_deref(), Some("access_denied"));
    assert_eq!(callback.error_description.as_deref(), Some("The user cancelled"));
    assert!(matches!(
        Callback::from_query("error=x&error_description=a&error_description=b&state=s"),
        Err(SigninError::BadCallback(_))
    ));
}
