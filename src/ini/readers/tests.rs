//! The two readers' models, case by case.

use super::*;

#[test]
fn splits_like_python_shlex() {
    let split = |s: &str| shlex_split(s);
    assert_eq!(
        split("profile  foo"),
        Some(vec!["profile".into(), "foo".into()])
    );
    assert_eq!(
        split("profile\tfoo "),
        Some(vec!["profile".into(), "foo".into()])
    );
    assert_eq!(
        split(r#"profile "my name""#),
        Some(vec!["profile".into(), "my name".into()])
    );
    assert_eq!(
        split(r"profile a\ b"),
        Some(vec!["profile".into(), "a b".into()])
    );
    assert_eq!(
        split(r#"profile "a\b\"c""#),
        Some(vec!["profile".into(), r#"a\b"c"#.into()])
    );
    assert_eq!(
        split("profile ''"),
        Some(vec!["profile".into(), String::new()])
    );
    assert_eq!(split("profile 'it"), None);
    assert_eq!(split(r"profile a\"), None);
    assert_eq!(
        split("profile\u{a0}foo"),
        Some(vec!["profile\u{a0}foo".into()])
    );
}

#[test]
fn names_profiles_as_botocore_does() {
    let config = |s: &str| profile_name(s, FileKind::Config);
    assert_eq!(config("profile work").as_deref(), Some("work"));
    assert_eq!(config("profile  work").as_deref(), Some("work"));
    assert_eq!(config("profiles work").as_deref(), Some("work"));
    assert_eq!(config("default").as_deref(), Some("default"));
    assert_eq!(config(" profile work"), None);
    assert_eq!(config("profilework"), None);
    assert_eq!(config("profile a b"), None);
    assert_eq!(config("work"), None);
    let creds = |s: &str| profile_name(s, FileKind::Credentials);
    assert_eq!(creds(" work ").as_deref(), Some(" work "));
    assert_eq!(creds("DEFAULT"), None);
}

#[test]
fn splits_lines_as_the_sdk_does() {
    let lines: Vec<_> = sdk_lines("a\r\nb\rc\nd\r").collect();
    assert_eq!(lines, vec![(0, "a"), (3, "b\rc"), (7, "d\r")]);
}
