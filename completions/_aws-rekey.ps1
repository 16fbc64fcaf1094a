
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'aws-rekey' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'aws-rekey'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'aws-rekey' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate the access key of one or more profiles')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move a profile''s key between the credentials file and the OS keychain')
            [CompletionResult]::new('credential-process', 'credential-process', [CompletionResultType]::ParameterValue, 'Print a keychain profile''s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile''s credential_process line)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every profile''s key: where it is kept, its age, last use, and whether it is due for rotation')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Find the files that hold a copy of your profiles'' keys (a project''s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff), for `man -l -` or a man folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aws-rekey;rotate' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to rotate; repeat for several. Defaults to $AWS_PROFILE, then `default`')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only rotate keys older than this (days; `90` or `90d`)')
            [CompletionResult]::new('--mfa-code', '--mfa-code', [CompletionResultType]::ParameterName, 'The MFA code for profiles with `mfa_serial`; without it, aws-rekey asks on the terminal')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run COMMAND (through the shell) after each successful rotation, with the new key on its stdin as credential_process JSON. Overrides the profile''s `aws_rekey_exec` setting')
            [CompletionResult]::new('--also', '--also', [CompletionResultType]::ParameterName, 'A file that also holds the profile''s key (a project''s .env, ~/.s3cfg): updated with the profile, and put back if the rotation is rolled back. Repeat for several; `?PATH` may be missing. Adds to the profile''s `aws_rekey_also` setting, for this run')
            [CompletionResult]::new('--exec-timeout', '--exec-timeout', [CompletionResultType]::ParameterName, 'How long a hook (--exec or `aws_rekey_exec`) may run; then it is stopped, with every process it started, and reported as failed (exit 7). Seconds, or `90s`, `5m`')
            [CompletionResult]::new('--verify-timeout', '--verify-timeout', [CompletionResultType]::ParameterName, 'How long to wait for IAM to accept the new key (seconds, or `90s`, `2m`)')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('--keep-old', '--keep-old', [CompletionResultType]::ParameterName, 'Deactivate the old key instead of deleting it; the next rotation deletes it')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen; change nothing')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Rotate every profile with a long-lived key, in either store: one rotation per key, concurrently, every profile holding it updated')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;move' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to move. Defaults to $AWS_PROFILE, then `default`')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where the key goes')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;credential-process' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The keychain entry to serve (account name under service `aws-rekey`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;status' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profiles to show; repeat for several. Defaults to every profile with a long-lived key')
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Keys older than this are due for rotation (days; `90` or `90d`)')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;check' {
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Keys older than this are due (days; `90` or `90d`; ages are compared exactly, so `0` names every key whose age is known)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;setup' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The profile to create')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep the key')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to write into the profile''s config')
            [CompletionResult]::new('--verify-timeout', '--verify-timeout', [CompletionResultType]::ParameterName, 'How long to wait for IAM to accept the rotated key')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('--no-rotate', '--no-rotate', [CompletionResultType]::ParameterName, 'Keep the bootstrap key instead of rotating it at once')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a profile that already has a working key')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;prune' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Only the inactive keys these profiles left behind; repeat for several')
            [CompletionResult]::new('--mfa-code', '--mfa-code', [CompletionResultType]::ParameterName, 'The MFA code for profiles with `mfa_serial`')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be deleted; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;rollback' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to roll back. Defaults to $AWS_PROFILE, then `default`')
            [CompletionResult]::new('--mfa-code', '--mfa-code', [CompletionResultType]::ParameterName, 'The MFA code, if the profile has `mfa_serial`')
            [CompletionResult]::new('--verify-timeout', '--verify-timeout', [CompletionResultType]::ParameterName, 'How long to wait for IAM to accept the reactivated key')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;find' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Only the keys of these profiles; repeat for several. Defaults to every profile with a long-lived key, in either store')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'output')
            [CompletionResult]::new('--include-all', '--include-all', [CompletionResultType]::ParameterName, 'Search the folders on the skip list below too (version control, dependencies, caches, virtualenvs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aws-rekey;help' {
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate the access key of one or more profiles')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move a profile''s key between the credentials file and the OS keychain')
            [CompletionResult]::new('credential-process', 'credential-process', [CompletionResultType]::ParameterValue, 'Print a keychain profile''s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile''s credential_process line)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every profile''s key: where it is kept, its age, last use, and whether it is due for rotation')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Find the files that hold a copy of your profiles'' keys (a project''s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff), for `man -l -` or a man folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aws-rekey;help;rotate' {
            break
        }
        'aws-rekey;help;move' {
            break
        }
        'aws-rekey;help;credential-process' {
            break
        }
        'aws-rekey;help;status' {
            break
        }
        'aws-rekey;help;check' {
            break
        }
        'aws-rekey;help;setup' {
            break
        }
        'aws-rekey;help;prune' {
            break
        }
        'aws-rekey;help;rollback' {
            break
        }
        'aws-rekey;help;find' {
            break
        }
        'aws-rekey;help;completions' {
            break
        }
        'aws-rekey;help;man' {
            break
        }
        'aws-rekey;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
