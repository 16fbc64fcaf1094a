//! Unit tests of `aws`.

use super::*;
use aws_sdk_iam::operation::create_access_key::CreateAccessKeyError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

type Err = SdkError<CreateAccessKeyError, HttpResponse>;

fn answered(status: u16, code: Option<&str>) -> Err {
    let mut meta = ErrorMetadata::builder().message("m");
    if let Some(code) = code {
        meta = meta.code(code);
    }
    SdkError::service_error(
        CreateAccessKeyError::generic(meta.build()),
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
    )
}

/// The rule in `classify`'s comment, case by case: an answered AWS error
/// is not ambiguous unless it is a 5xx that does not say the request was
/// shed; a missing or unreadable answer is.
#[test]
// Long: one table of cases, read top to bottom.
fn only_a_missing_answer_or_a_failure_on_aws_side_is_ambiguous() {
    let cases: Vec<(&str, Err, bool, bool)> = vec![
        // (what, error, ambiguous, throttled)
        (
            "400 Throttling",
            answered(400, Some("Throttling")),
            false,
            true,
        ),
        (
            "400 ThrottlingException",
            answered(400, Some("ThrottlingException")),
            false,
            true,
        ),
        (
            "429 TooManyRequestsException",
            answered(429, Some("TooManyRequestsException")),
            false,
            true,
        ),
        (
            "503 ServiceUnavailable",
            answered(503, Some("ServiceUnavailable")),
            false,
            true,
        ),
        ("503 SlowDown", answered(503, Some("SlowDown")), false, true),
        (
            "503, another code",
            answered(503, Some("Unavailable")),
            false,
            true,
        ),
        (
            "409 LimitExceeded",
            answered(409, Some("LimitExceeded")),
            false,
            false,
        ),
        (
            "403 AccessDenied",
            answered(403, Some("AccessDenied")),
            false,
            false,
        ),
        (
            "400 ValidationError",
            answered(400, Some("ValidationError")),
            false,
            false,
        ),
        (
            "407 from a proxy, no AWS error",
            answered(407, None),
            false,
            false,
        ),
        (
            "500 InternalFailure",
            answered(500, Some("InternalFailure")),
            true,
            false,
        ),
        (
            "500 ServiceFailure",
            answered(500, Some("ServiceFailure")),
            true,
            false,
        ),
        ("502 without an AWS error", answered(502, None), true, false),
        ("503 without an AWS error", answered(503, None), true, false),
        ("504 without an AWS error", answered(504, None), true, false),
        (
            "timeout",
            SdkError::timeout_error("attempt timeout"),
            true,
            false,
        ),
        (
            "connection reset",
            SdkError::dispatch_failure(ConnectorError::io("connection reset".into())),
            true,
            false,
        ),
        (
            "unreadable answer",
            SdkError::response_error(
                "truncated",
                HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty()),
            ),
            true,
            false,
        ),
        (
            "never sent",
            SdkError::construction_failure("could not sign"),
            false,
            false,
        ),
    ];
    for (what, err, ambiguous, throttled) in cases {
        let e = classify(err);
        assert_eq!(e.ambiguous(), ambiguous, "{what}: {e:?}");
        assert_eq!(e.throttled(), throttled, "{what}: {e:?}");
    }
    assert!(matches!(
        classify(answered(409, Some("LimitExceeded"))),
        AwsError::LimitExceeded(_)
    ));
}
