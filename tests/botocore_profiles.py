"""The AWS CLI's reading of shared files, for tests/profile_grammar.rs.

stdin: a JSON list of {"config": PATH or null, "credentials": PATH or null}.
stdout: a JSON list, one item per case: {"error": NAME} when botocore
refuses the files, else {"profiles": {NAME: {KEY: VALUE}}, "nested":
{NAME: {KEY: {SUBKEY: VALUE}}}}: VALUE as configparser reads it (before
botocore splits a value that starts on the next line), and, for such
values, the map botocore splits it into.

The reading is `Session.full_config` (botocore/session.py): the config
file through `configloader.load_config`, then the credentials file through
`configloader.raw_config_parse`, its profiles merged over the config's.
With "check_session", each case is also read through a real Session and
must give the same profiles.
"""

import copy
import json
import sys

import botocore.session
from botocore import configloader
from botocore.exceptions import ConfigNotFound

NOWHERE = "/nonexistent/aws-rekey-test"


def full_config(config, credentials, parse_subsections):
    """session.full_config['profiles'], with the choice of splitting
    nested values or not."""
    try:
        raw = configloader.raw_config_parse(config or NOWHERE, parse_subsections)
        profiles = configloader.build_profile_map(raw)["profiles"]
    except ConfigNotFound:
        profiles = {}
    try:
        creds = configloader.raw_config_parse(credentials or NOWHERE, parse_subsections)
        for name, values in creds.items():
            if name not in profiles:
                profiles[name] = values
            else:
                profiles[name].update(values)
    except ConfigNotFound:
        pass
    return profiles


def session_profiles(config, credentials):
    session = botocore.session.Session()
    session.set_config_variable("config_file", config or NOWHERE)
    session.set_config_variable("credentials_file", credentials or NOWHERE)
    return session.full_config["profiles"]


def read(case, check_session):
    config, credentials = case.get("config"), case.get("credentials")
    try:
        parsed = full_config(config, credentials, True)
    except Exception as e:  # what the AWS CLI would fail with
        return {"error": type(e).__name__}
    if check_session:
        assert copy.deepcopy(parsed) == session_profiles(config, credentials), case
    raw = full_config(config, credentials, False)
    nested = {
        name: {k: v for k, v in values.items() if isinstance(v, dict)}
        for name, values in parsed.items()
    }
    return {"profiles": raw, "nested": nested}


def main():
    check_session = "check_session" in sys.argv[1:]
    cases = json.load(sys.stdin)
    json.dump([read(c, check_session) for c in cases], sys.stdout)


main()
