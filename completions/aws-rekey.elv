
use builtin;
use str;

set edit:completion:arg-completer[aws-rekey] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'aws-rekey'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'aws-rekey'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand rotate 'Rotate the access key of one or more profiles'
            cand move 'Move a profile''s key between the credentials file and the OS keychain'
            cand credential-process 'Print a keychain profile''s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile''s credential_process line)'
            cand status 'Show every profile''s key: where it is kept, its age, last use, and whether it is due for rotation'
            cand check 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due'
            cand setup 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once'
            cand prune 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation'
            cand rollback 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one'
            cand find 'Find the files that hold a copy of your profiles'' keys (a project''s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff), for `man -l -` or a man folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aws-rekey;rotate'= {
            cand --profile 'Profile to rotate; repeat for several. Defaults to $AWS_PROFILE, then `default`'
            cand --older-than 'Only rotate keys older than this (days; `90` or `90d`)'
            cand --mfa-code 'The MFA code for profiles with `mfa_serial`; without it, aws-rekey asks on the terminal'
            cand --exec 'Run COMMAND (through the shell) after each successful rotation, with the new key on its stdin as credential_process JSON. Overrides the profile''s `aws_rekey_exec` setting'
            cand --also 'A file that also holds the profile''s key (a project''s .env, ~/.s3cfg): updated with the profile, and put back if the rotation is rolled back. Repeat for several; `?PATH` may be missing. Adds to the profile''s `aws_rekey_also` setting, for this run'
            cand --exec-timeout 'How long a hook (--exec or `aws_rekey_exec`) may run; then it is stopped, with every process it started, and reported as failed (exit 7). Seconds, or `90s`, `5m`'
            cand --verify-timeout 'How long to wait for IAM to accept the new key (seconds, or `90s`, `2m`)'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand --keep-old 'Deactivate the old key instead of deleting it; the next rotation deletes it'
            cand --dry-run 'Show what would happen; change nothing'
            cand --all 'Rotate every profile with a long-lived key, in either store: one rotation per key, concurrently, every profile holding it updated'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;move'= {
            cand --profile 'Profile to move. Defaults to $AWS_PROFILE, then `default`'
            cand --to 'Where the key goes'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;credential-process'= {
            cand --profile 'The keychain entry to serve (account name under service `aws-rekey`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;status'= {
            cand --profile 'Profiles to show; repeat for several. Defaults to every profile with a long-lived key'
            cand --max-age 'Keys older than this are due for rotation (days; `90` or `90d`)'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;check'= {
            cand --max-age 'Keys older than this are due (days; `90` or `90d`; ages are compared exactly, so `0` names every key whose age is known)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;setup'= {
            cand --profile 'The profile to create'
            cand --store 'Where to keep the key'
            cand --region 'Region to write into the profile''s config'
            cand --verify-timeout 'How long to wait for IAM to accept the rotated key'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand --no-rotate 'Keep the bootstrap key instead of rotating it at once'
            cand --force 'Replace a profile that already has a working key'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;prune'= {
            cand --profile 'Only the inactive keys these profiles left behind; repeat for several'
            cand --mfa-code 'The MFA code for profiles with `mfa_serial`'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand --dry-run 'Show what would be deleted; change nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;rollback'= {
            cand --profile 'Profile to roll back. Defaults to $AWS_PROFILE, then `default`'
            cand --mfa-code 'The MFA code, if the profile has `mfa_serial`'
            cand --verify-timeout 'How long to wait for IAM to accept the reactivated key'
            cand --lock-timeout 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)'
            cand --output 'output'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;find'= {
            cand --profile 'Only the keys of these profiles; repeat for several. Defaults to every profile with a long-lived key, in either store'
            cand --output 'output'
            cand --include-all 'Search the folders on the skip list below too (version control, dependencies, caches, virtualenvs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aws-rekey;help'= {
            cand rotate 'Rotate the access key of one or more profiles'
            cand move 'Move a profile''s key between the credentials file and the OS keychain'
            cand credential-process 'Print a keychain profile''s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile''s credential_process line)'
            cand status 'Show every profile''s key: where it is kept, its age, last use, and whether it is due for rotation'
            cand check 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due'
            cand setup 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once'
            cand prune 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation'
            cand rollback 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one'
            cand find 'Find the files that hold a copy of your profiles'' keys (a project''s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff), for `man -l -` or a man folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aws-rekey;help;rotate'= {
        }
        &'aws-rekey;help;move'= {
        }
        &'aws-rekey;help;credential-process'= {
        }
        &'aws-rekey;help;status'= {
        }
        &'aws-rekey;help;check'= {
        }
        &'aws-rekey;help;setup'= {
        }
        &'aws-rekey;help;prune'= {
        }
        &'aws-rekey;help;rollback'= {
        }
        &'aws-rekey;help;find'= {
        }
        &'aws-rekey;help;completions'= {
        }
        &'aws-rekey;help;man'= {
        }
        &'aws-rekey;help;help'= {
        }
    ]
    $completions[$command]
}
