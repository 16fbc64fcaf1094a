//! Unit tests of `profile`.

use super::*;

fn profiles(creds: &str, config: &str) -> Profiles {
    Profiles {
        files: AwsFiles {
            credentials: "/c".into(),
            config: "/f".into(),
        },
        credentials: Document::parse(creds, FileKind::Credentials).unwrap(),
        config: Document::parse(config, FileKind::Config).unwrap(),
    }
}

const CREDS: &str = "[default]\naws_access_key_id = AKIAD\naws_secret_access_key = s\n\
    [temp]\naws_access_key_id = ASIA\naws_secret_access_key = s\naws_session_token = t\n\
    [empty]\nregion = x\n";
const CONFIG: &str = "[default]\nregion = eu-west-1\nmfa_serial = arn:mfa\n\
    [profile admin]\nrole_arn = arn:role\nsource_profile = hop\n\
    [profile hop]\nrole_arn = arn:role2\nsource_profile = default\n\
    [profile sso]\nsso_session = corp\n\
    [profile proc]\ncredential_process = /bin/get-creds\n\
    [profile loop]\nrole_arn = r\nsource_profile = loop2\n\
    [profile loop2]\nrole_arn = r\nsource_profile = loop\n\
    [profile ec2]\nrole_arn = r\ncredential_source = Ec2InstanceMetadata\n";

#[test]
fn resolves_a_static_profile_with_its_config() {
    let p = profiles(CREDS, CONFIG).resolve("default").unwrap();
    assert_eq!(p.store, StoreKind::File);
    assert_eq!(p.region.as_deref(), Some("eu-west-1"));
}

/// Issue 10: headers as botocore and the SDKs both read them, with a
/// comment after them or other spacing after `profile`.
#[test]
fn finds_profiles_under_any_header_both_readers_accept() {
    let ps = profiles(
        "[work] # my work key\naws_access_key_id = AKIAW\naws_secret_access_key = s\n",
        "[profile\twork] ; eu\nregion = eu-west-1\n[default]\nregion = x\n\
         [profile default]\nregion = us-west-2\n",
    );
    assert_eq!(ps.names(), vec!["work", "default"]);
    let p = ps.resolve("work").unwrap();
    assert_eq!(p.region.as_deref(), Some("eu-west-1"));
    assert_eq!(ps.config_section("work").as_deref(), Some("profile\twork"));
    // `[profile default]` last: botocore and the SDKs both read it.
    assert_eq!(ps.setting("default", "region"), Some("us-west-2"));
}

#[test]
fn refuses_what_cannot_be_rotated() {
    let ps = profiles(CREDS, CONFIG);
    let err = |n: &str| ps.resolve(n).unwrap_err();
    assert!(matches!(err("temp"), ProfileError::Temporary(_)));
    assert!(matches!(err("empty"), ProfileError::NoKey(_)));
    assert!(matches!(err("sso"), ProfileError::Sso(_)));
    assert!(matches!(err("proc"), ProfileError::Process(_)));
    assert!(!err("proc").to_string().contains("get-creds"));
    assert!(matches!(err("loop"), ProfileError::Loop(_)));
    assert!(matches!(err("ec2"), ProfileError::RoleWithoutSource(_)));
    match err("admin") {
        ProfileError::Role { source_profile, .. } => assert_eq!(source_profile, "default"),
        other => panic!("{other}"),
    }
    let (p, via) = ps.resolve_for_rotation("admin").unwrap();
    assert_eq!(
        (p.name.as_str(), via.as_deref()),
        ("default", Some("admin"))
    );
    assert_eq!(
        ps.mfa_serial("default", Some("admin")).as_deref(),
        Some("arn:mfa")
    );
    assert!(matches!(
        ps.resolve_for_rotation("ec2"),
        Err(ProfileError::RoleWithoutSource(_))
    ));
    let unknown = err("nope").to_string();
    assert!(
        unknown.contains("known profiles: default, temp, empty, admin"),
        "{unknown}"
    );
}

#[cfg(unix)]
#[test]
fn recognises_its_own_credential_process() {
    let line = credential_process_line(Path::new("/opt/my tools/aws-rekey"), "work");
    assert_eq!(
        line,
        "'/opt/my tools/aws-rekey' credential-process --profile work"
    );
    assert_eq!(keychain_account(&line).as_deref(), Some("work"));
    assert_eq!(
        credential_process_line(Path::new("/usr/bin/aws-rekey"), "my profile"),
        "'/usr/bin/aws-rekey' credential-process --profile 'my profile'"
    );
    // Lines written by earlier versions (double quotes) still count.
    assert_eq!(
        keychain_account(r#""/opt/my tools/aws-rekey" credential-process --profile "a \"b\"""#)
            .as_deref(),
        Some("a \"b\"")
    );
    assert_eq!(
        keychain_account("aws-rekey.exe credential-process --profile=x").as_deref(),
        Some("x")
    );
    assert_eq!(keychain_account("/usr/bin/vault-creds --profile x"), None);
    let ps = profiles(
        "",
        &format!("[profile kc]\ncredential_process = {line}\nregion = r\n"),
    );
    let p = ps.resolve("kc").unwrap();
    assert_eq!(
        p.store,
        StoreKind::Keychain {
            account: "work".into()
        }
    );
    assert_eq!(ps.keychain_accounts(), vec!["work"]);
}

/// Every shell metacharacter stays inside single quotes: the line is
/// literal for `sh`, and the split gives back exactly the words.
#[cfg(unix)]
#[test]
fn quotes_every_word_for_a_posix_shell() {
    let exe = "/opt/it's $(here)/aws-rekey";
    for name in [
        "dev;touch${IFS}/tmp/x",
        "a$(id)b",
        "a`id`b",
        "it's",
        "'",
        "''\\'",
        "a \"$(id)\\",
        "a&&b||c|d>e<f",
        "~x",
        "#x",
        "*",
        "work",
        "a=b",
    ] {
        let line = credential_process_line(Path::new(exe), name);
        assert!(sh_literal(&line), "{name:?}: {line}");
        assert_eq!(
            split_command(&line),
            vec![exe, "credential-process", "--profile", name],
            "{line}"
        );
        assert_eq!(keychain_account(&line).as_deref(), Some(name));
    }
    for unsafe_line in [
        "'/x' a;b",
        "'/x' \"$(id)\"",
        "'/x' `id`",
        "'/x' $HOME",
        "'/x' 'unterminated",
        "'/x' a\\b",
        "'/x' ~",
        "'/x' *",
    ] {
        assert!(!sh_literal(unsafe_line), "{unsafe_line}");
    }
    assert_eq!(line_word_problem("a\nb"), Some("a control character"));
    assert_eq!(line_word_problem("dev;touch${IFS}x"), None);
}

#[test]
fn splits_like_a_posix_shell() {
    assert_eq!(
        split_command(r#""/a b/c" 'd e' f\ g "h\"i" j"#),
        vec!["/a b/c", "d e", "f g", "h\"i", "j"]
    );
    assert_eq!(split_command("  "), Vec::<String>::new());
    assert_eq!(split_command("a ''"), vec!["a", ""]);
    // Inside double quotes a backslash escapes only `"`, `\`, `$` and
    // a backquote (POSIX; Python keeps the one before `$`: such a line
    // is never literal for a shell, so aws-rekey never trusts it).
    assert_eq!(split_command(r#""a\b\$c\\d""#), vec![r"a\b$c\d"]);
    assert!(!sh_literal(r#"'/x' "a\$b""#));
    // An unbalanced quote is not a command at all.
    assert_eq!(
        split_command("'/x/aws-rekey' credential-process 'a"),
        Vec::<String>::new()
    );
}

#[test]
fn expands_a_tilde() {
    assert_eq!(
        expand_home(Path::new("~/x/creds"), Some(Path::new("/home/u"))),
        PathBuf::from("/home/u/x/creds")
    );
    assert_eq!(
        expand_home(Path::new("/a"), Some(Path::new("/h"))),
        PathBuf::from("/a")
    );
}

/// Issue 12: `aws_rekey_also` and `aws_rekey_find` in the profile's config
/// section, a value continued on indented lines included; a bad list is refused, naming
/// the profile and the setting.
#[test]
fn lists_of_paths_in_the_profile_config() {
    use crate::copies::listed::{ALSO, FIND};
    let ps = profiles(
        "[work]\naws_access_key_id = AKIAW\naws_secret_access_key = s\n",
        "[profile work]\naws_rekey_also = /srv/a/.env \"/srv/My Files/b\" ?/etc/s3cfg\n\
         aws_rekey_find = /srv/code\n    ?/srv/more\n\
         [profile bad]\naws_rekey_also = relative/.env\n",
    );
    let also = ps.paths("work", ALSO).unwrap();
    let shown: Vec<(String, bool)> = also
        .iter()
        .map(|l| (l.path.display().to_string(), l.optional))
        .collect();
    assert_eq!(
        shown,
        [
            ("/srv/a/.env".to_string(), false),
            ("/srv/My Files/b".to_string(), false),
            ("/etc/s3cfg".to_string(), true),
        ]
    );
    let find = ps.paths("work", FIND).unwrap();
    assert_eq!(find.len(), 2);
    assert!(find[1].optional);
    assert!(ps.paths("default", ALSO).unwrap().is_empty());
    let err = ps.paths("bad", ALSO).unwrap_err().to_string();
    assert!(
        err.contains("'bad'") && err.contains("aws_rekey_also") && err.contains("relative"),
        "{err}"
    );
}
