# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_aws_rekey_global_optspecs
    string join \n h/help V/version
end

function __fish_aws_rekey_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_aws_rekey_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_aws_rekey_using_subcommand
    set -l cmd (__fish_aws_rekey_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "rotate" -d 'Rotate the access key of one or more profiles'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "move" -d 'Move a profile\'s key between the credentials file and the OS keychain'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "credential-process" -d 'Print a keychain profile\'s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile\'s credential_process line)'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "status" -d 'Show every profile\'s key: where it is kept, its age, last use, and whether it is due for rotation'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "check" -d 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "setup" -d 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "prune" -d 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "rollback" -d 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "find" -d 'Find the files that hold a copy of your profiles\' keys (a project\'s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "man" -d 'Print the manual page (roff), for `man -l -` or a man folder'
complete -c aws-rekey -n "__fish_aws_rekey_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l profile -d 'Profile to rotate; repeat for several. Defaults to $AWS_PROFILE, then `default`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l older-than -d 'Only rotate keys older than this (days; `90` or `90d`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l mfa-code -d 'The MFA code for profiles with `mfa_serial`; without it, aws-rekey asks on the terminal' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l exec -d 'Run COMMAND (through the shell) after each successful rotation, with the new key on its stdin as credential_process JSON. Overrides the profile\'s `aws_rekey_exec` setting' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l also -d 'A file that also holds the profile\'s key (a project\'s .env, ~/.s3cfg): updated with the profile, and put back if the rotation is rolled back. Repeat for several; `?PATH` may be missing. Adds to the profile\'s `aws_rekey_also` setting, for this run' -r -F
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l exec-timeout -d 'How long a hook (--exec or `aws_rekey_exec`) may run; then it is stopped, with every process it started, and reported as failed (exit 7). Seconds, or `90s`, `5m`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l verify-timeout -d 'How long to wait for IAM to accept the new key (seconds, or `90s`, `2m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l keep-old -d 'Deactivate the old key instead of deleting it; the next rotation deletes it'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l dry-run -d 'Show what would happen; change nothing'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -l all -d 'Rotate every profile with a long-lived key, in either store: one rotation per key, concurrently, every profile holding it updated'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -l profile -d 'Profile to move. Defaults to $AWS_PROFILE, then `default`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -l to -d 'Where the key goes' -r -f -a "keychain\t'The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux)'
file\t'The shared credentials file (~/.aws/credentials)'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand move" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand credential-process" -l profile -d 'The keychain entry to serve (account name under service `aws-rekey`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand credential-process" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -l profile -d 'Profiles to show; repeat for several. Defaults to every profile with a long-lived key' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -l max-age -d 'Keys older than this are due for rotation (days; `90` or `90d`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand status" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand check" -l max-age -d 'Keys older than this are due (days; `90` or `90d`; ages are compared exactly, so `0` names every key whose age is known)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand check" -s h -l help -d 'Print help'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand check" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l profile -d 'The profile to create' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l store -d 'Where to keep the key' -r -f -a "keychain\t'The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux)'
file\t'The shared credentials file (~/.aws/credentials)'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l region -d 'Region to write into the profile\'s config' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l verify-timeout -d 'How long to wait for IAM to accept the rotated key' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l no-rotate -d 'Keep the bootstrap key instead of rotating it at once'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -l force -d 'Replace a profile that already has a working key'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand setup" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -l profile -d 'Only the inactive keys these profiles left behind; repeat for several' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -l mfa-code -d 'The MFA code for profiles with `mfa_serial`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -l dry-run -d 'Show what would be deleted; change nothing'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand prune" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -l profile -d 'Profile to roll back. Defaults to $AWS_PROFILE, then `default`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -l mfa-code -d 'The MFA code, if the profile has `mfa_serial`' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -l verify-timeout -d 'How long to wait for IAM to accept the reactivated key' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -l lock-timeout -d 'How long to wait for another aws-rekey run to finish (it holds the lock on the state folder) before giving up with exit 6, changing nothing (seconds, or `90s`, `5m`)' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand find" -l profile -d 'Only the keys of these profiles; repeat for several. Defaults to every profile with a long-lived key, in either store' -r
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand find" -l output -r -f -a "text\t'For people: progress lines on stderr; on stdout the result, a line per profile or a table'
json\t'One JSON document on stdout'"
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand find" -l include-all -d 'Search the folders on the skip list below too (version control, dependencies, caches, virtualenvs)'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand find" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand find" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand completions" -s h -l help -d 'Print help'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand completions" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand man" -s h -l help -d 'Print help'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand man" -s V -l version -d 'Print version'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "rotate" -d 'Rotate the access key of one or more profiles'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "move" -d 'Move a profile\'s key between the credentials file and the OS keychain'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "credential-process" -d 'Print a keychain profile\'s key as credential_process JSON (run by the AWS CLI and SDKs, through the profile\'s credential_process line)'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "status" -d 'Show every profile\'s key: where it is kept, its age, last use, and whether it is due for rotation'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "check" -d 'For shell startup: name the keys older than the maximum age. Offline, silent when nothing is due'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "setup" -d 'Set up a profile from a bootstrap key read on stdin (or from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then rotate it at once'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "prune" -d 'Delete the old keys that `rotate --keep-old` (or a still-used old key) left inactive, once they show no use since their rotation'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "rollback" -d 'Undo a rotation made with --keep-old: reactivate the old key, put it back in the profile, and deactivate the new one'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "find" -d 'Find the files that hold a copy of your profiles\' keys (a project\'s .env, a shell rc file, ~/.s3cfg...), which a rotation would leave holding a deleted key'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "man" -d 'Print the manual page (roff), for `man -l -` or a man folder'
complete -c aws-rekey -n "__fish_aws_rekey_using_subcommand help; and not __fish_seen_subcommand_from rotate move credential-process status check setup prune rollback find completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
