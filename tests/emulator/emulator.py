"""IAM/STS emulator for aws-rekey's end-to-end tests and benchmarks.

moto in server mode, with authentication enforced, behind a loopback
forwarder that the tests steer. Nothing here listens beyond 127.0.0.1.

moto 5.2 differs from real IAM in two ways that matter to a key-rotation tool,
and both are closed here before the server starts:
  * it still accepts a key that was set Inactive (real IAM rejects it with
    InvalidClientTokenId);
  * its authentication errors come back as <ErrorResponse><Errors><Error>,
    from which the Rust SDK cannot read the error code; real IAM and STS send
    <ErrorResponse><Error>.

The forwarder in front adds what a real network and a real IAM do to a client:
  * fault injection: fail the Nth request with an HTTP 500 (mode "500"), or
    forward it and then reset the connection before the answer arrives
    ("lost"); or fail every request from the Nth on, an outage ("outage",
    and "lost_outage" where the Nth request still takes effect);
  * slowness: delay every request, so a test can kill the tool mid-flight;
  * propagation: refuse a newly created key with InvalidClientTokenId for a
    while, then on every other request for a while more, as IAM's eventual
    consistency does;
  * list lag: ListAccessKeys leaves out keys younger than a few seconds, as
    IAM's eventually consistent reads may (moto's answer is filtered);
  * a request log (action, access key id, status) for assertions and counts.

Control endpoints live under /_harness/ on the same port and bypass
authentication (they call moto's backend in-process):
  POST /_harness/user   {"name", "policy"?}  -> {"arn", "access_key_id", "secret_access_key"}
  POST /_harness/key    {"user", "status"?}  -> {"access_key_id", "secret_access_key"}
  GET  /_harness/keys?user=NAME              -> [{"id", "status", "created", "last_used"}]
  POST /_harness/mfa    {"user", "serial", "code"}  registers the user's MFA device
  POST /_harness/fault  {"fail_nth", "mode", "delay_ms", "propagation_s", "flap_s",
                         "list_lag_s", "actions"}
      "actions": {"UpdateAccessKey": {"mode": "deny", "times": 1}, ...} fails the
      next N requests of that action: mode "500" (500 InternalFailure, not
      executed), "lost" (takes effect, answer lost), "deny" (403
      AccessDenied), "throttle" (400 Throttling: Rate exceeded), "503" (503
      ServiceUnavailable); none of them but "lost" takes effect; times -1
      means every one; "after": "CreateAccessKey" arms it only once a request
      of that action has been seen.
      "list_lag_s": L leaves every key created after this fault was set out
      of ListAccessKeys answers until it is L seconds old (keys made before,
      such as a test's starting keys, are listed as usual)
  GET  /_harness/log                         -> [{"action", "key", "status", "region", "t"}]

Usage: python3 emulator.py   (prints {"endpoint": ...} on stdout once ready,
and exits when stdin closes, so a test's emulator dies with the test).
"""

import http.client
import http.server
import json
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
import logging

logging.getLogger("werkzeug").setLevel(logging.ERROR)

from moto.core import exceptions as moto_exceptions
from moto.iam import access_control
from moto.iam.models import iam_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

ACCOUNT = "123456789012"
PARTITION = "aws"

# Allows everything a developer needs to manage their own keys. moto matches
# policy resources against "*" only, so the resource is "*" here.
DEFAULT_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:UpdateAccessKey",
                    "iam:ListAccessKeys",
                    "iam:GetAccessKeyLastUsed",
                    "iam:GetUser",
                    "sts:GetSessionToken",
                ],
                "Resource": "*",
            }
        ],
    }
)


# --- closing moto's gaps ------------------------------------------------------

_original_key_init = access_control.IAMUserAccessKey.__init__


def _key_init_rejecting_inactive(self, account_id, partition, access_key_id, headers):
    _original_key_init(self, account_id, partition, access_key_id, headers)
    key = iam_backends[account_id][partition].access_keys.get(access_key_id)
    if key is not None and key.status != "Active":
        raise access_control.CreateAccessKeyFailure(reason="InvalidId")


access_control.IAMUserAccessKey.__init__ = _key_init_rejecting_inactive

_original_rest_error_init = moto_exceptions._RESTError.__init__


def _rest_error_init_flat(self, error_type, message, *args, **kwargs):
    _original_rest_error_init(self, error_type, message, *args, **kwargs)
    if getattr(self, "content_type", None) == moto_exceptions.APP_XML:
        from xmltodict import unparse

        error = {"Type": "Sender", "Code": error_type, "Message": message}
        self.description = unparse(
            {"ErrorResponse": {"Error": error, "RequestId": "emulator"}},
            full_document=True,
        )


moto_exceptions._RESTError.__init__ = _rest_error_init_flat


# --- MFA: GetSessionToken and aws:MultiFactorAuthPresent -----------------------
#
# moto 5.2's GetSessionToken returns one fixed credential set that its own
# authentication then rejects, and its policy evaluation ignores
# aws:MultiFactorAuthPresent. Here GetSessionToken (intercepted at the
# forwarder, after moto has authenticated the caller) mints working session
# credentials tied to the calling user, flagged MFA when a registered serial
# and its code were given; requests signed with them authenticate as that
# user; and the MFA condition is evaluated as IAM does: absent for long-term
# keys (only *IfExists matches), true or false for sessions. Sessions without
# MFA cannot call IAM at all, as in AWS.

SESSIONS = {}  # access key id -> {"secret", "token", "user", "mfa"}
MFA_DEVICES = {}  # user -> {"serial", "code"}


def apply_mfa_condition(document, mfa):
    """The policy with aws:MultiFactorAuthPresent conditions decided for a
    request whose MFA context is `mfa` (None: the key is absent)."""
    statements = document["Statement"]
    if not isinstance(statements, list):
        statements = [statements]
    kept = []
    for st in statements:
        condition = st.get("Condition")
        if not condition:
            kept.append(st)
            continue
        holds = True
        remaining = {}
        for operator, pairs in condition.items():
            rest = {}
            for key, value in pairs.items():
                if key.lower() != "aws:multifactorauthpresent":
                    rest[key] = value
                    continue
                values = value if isinstance(value, list) else [value]
                wanted = [str(v).lower() == "true" for v in values]
                if mfa is None:
                    ok = operator.endswith("IfExists")
                elif operator.startswith("Bool"):
                    ok = mfa in wanted
                else:
                    ok = False
                holds = holds and ok
            if rest:
                remaining[operator] = rest
        if not holds:
            continue
        st = dict(st)
        if remaining:
            st["Condition"] = remaining
        else:
            st.pop("Condition")
        kept.append(st)
    return {**document, "Statement": kept}


def policy_documents(policies):
    out = []
    for policy in policies:
        if isinstance(policy, str):
            out.append(json.loads(policy))
        elif isinstance(policy, dict):
            doc = policy["policy_document"]
            out.append(json.loads(doc) if isinstance(doc, str) else doc)
        else:
            version = next(v for v in policy.versions if v.is_default)
            doc = version.document
            out.append(json.loads(doc) if isinstance(doc, str) else doc)
    return out


_original_collect = access_control.IAMUserAccessKey.collect_policies


def _collect_for_long_term_key(self):
    return [json.dumps(apply_mfa_condition(d, None)) for d in policy_documents(_original_collect(self))]


access_control.IAMUserAccessKey.collect_policies = _collect_for_long_term_key


class SessionKey:
    """Credentials from our GetSessionToken: the user's own policies, with
    the MFA context of the session."""

    def __init__(self, account_id, partition, access_key_id, session):
        self.account_id = account_id
        self.partition = partition
        self._access_key_id = access_key_id
        self._session = session
        self._owner_user_name = session["user"]

    @property
    def backend(self):
        return iam_backends[self.account_id][self.partition]

    @property
    def arn(self):
        return f"arn:{self.partition}:iam::{self.account_id}:user/{self._owner_user_name}"

    def create_credentials(self):
        from botocore.credentials import Credentials

        return Credentials(self._access_key_id, self._session["secret"], self._session["token"])

    def collect_policies(self):
        docs = policy_documents(_original_collect(self))
        return [json.dumps(apply_mfa_condition(d, self._session["mfa"])) for d in docs]


_original_create_key = access_control.create_access_key


def _create_access_key(account_id, partition, access_key_id, headers):
    session = SESSIONS.get(access_key_id)
    if session is None:
        return _original_create_key(account_id, partition, access_key_id, headers)
    if headers.get("X-Amz-Security-Token") != session["token"]:
        raise access_control.CreateAccessKeyFailure(reason="InvalidToken")
    return SessionKey(account_id, partition, access_key_id, session)


access_control.create_access_key = _create_access_key

_original_permitted = access_control.IAMRequestBase.check_action_permitted


def _check_action_permitted(self, resource):
    key = self._access_key
    if isinstance(key, SessionKey) and not key._session["mfa"] and self._action.startswith("iam:"):
        self._raise_access_denied()
    return _original_permitted(self, resource)


access_control.IAMRequestBase.check_action_permitted = _check_action_permitted


# IAM infers "the caller's user" from the signing key id; teach it sessions.
from moto.iam.models import IAMBackend  # noqa: E402

_original_last_used = IAMBackend.get_access_key_last_used


def _last_used_or_session(self, access_key_id):
    session = SESSIONS.get(access_key_id)
    if session is not None:
        return {"user_name": session["user"], "last_used": None}
    return _original_last_used(self, access_key_id)


IAMBackend.get_access_key_last_used = _last_used_or_session


def mint_session(user, serial, code):
    """Returns the GetSessionToken XML, or an error XML and status."""
    import secrets
    import string

    mfa = False
    if serial or code:
        device = MFA_DEVICES.get(user)
        if not device or device["serial"] != serial or device["code"] != code:
            return 403, error_xml(
                "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", "GetSessionToken"
            )
        mfa = True
    alphabet = string.ascii_uppercase + string.digits
    key_id = "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = secrets.token_urlsafe(30)[:40]
    token = secrets.token_urlsafe(64)
    SESSIONS[key_id] = {"secret": secret, "token": token, "user": user, "mfa": mfa}
    expires = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = (
        '<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetSessionTokenResult><Credentials>"
        f"<SessionToken>{token}</SessionToken><SecretAccessKey>{secret}</SecretAccessKey>"
        f"<Expiration>{expires}</Expiration><AccessKeyId>{key_id}</AccessKeyId>"
        "</Credentials></GetSessionTokenResult>"
        "<ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata>"
        "</GetSessionTokenResponse>"
    )
    return 200, body.encode()


def iam():
    return iam_backends[ACCOUNT][PARTITION]


def find_key(key_id):
    return iam().access_keys.get(key_id)


# --- the forwarder -------------------------------------------------------------


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset({})
        self.log = []

    def reset(self, spec):
        self.fail_nth = int(spec.get("fail_nth", 0))
        self.mode = spec.get("mode", "500")
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.propagation_s = float(spec.get("propagation_s", 0))
        self.flap_s = float(spec.get("flap_s", 0))
        self.list_lag_s = float(spec.get("list_lag_s", 0))
        self.set_at = datetime.now(timezone.utc).replace(tzinfo=None)
        self.count = 0
        self.flap_toggle = {}
        # Per-action faults: {action: {"mode": ..., "times": N}}.
        self.actions = {a: dict(f) for a, f in (spec.get("actions") or {}).items()}
        self.seen = set()


FAULTS = Faults()
BACKEND = None


STS_ACTIONS = ("GetCallerIdentity", "GetSessionToken", "AssumeRole")


def error_xml(code, message, action="", fault_type="Sender"):
    """An error answer as IAM (or STS, by action) sends it: the service's
    namespace, <Error> with Type/Code/Message, and a RequestId."""
    ns = "https://sts.amazonaws.com/doc/2011-06-15/" if action in STS_ACTIONS else "https://iam.amazonaws.com/doc/2010-05-08/"
    return (
        f'<ErrorResponse xmlns="{ns}"><Error><Type>{fault_type}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>4fa0f7b0-0000-4000-8000-emulator0000</RequestId></ErrorResponse>"
    ).encode()


def access_key_of(headers):
    auth = headers.get("Authorization", "")
    if "Credential=" not in auth:
        return ""
    return auth.split("Credential=", 1)[1].split("/", 1)[0]


def region_of(headers):
    auth = headers.get("Authorization", "")
    if "Credential=" not in auth:
        return ""
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    return scope[2] if len(scope) > 2 else ""


def action_of(body, path):
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    if "Action" in form:
        return form["Action"][0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    return query.get("Action", [""])[0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="text/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, value, status=200):
        self._send(status, json.dumps(value, default=str).encode(), "application/json")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        body = self._body()
        if self.path.startswith("/_harness/"):
            try:
                self._harness(body)
            except Exception as e:  # a harness bug must show in the test
                self._json({"error": repr(e)}, 500)
            return
        self._forward(body)

    # -- control ----------------------------------------------------------------

    def _harness(self, body):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        args = json.loads(body) if body else {}
        route = url.path[len("/_harness/") :]
        if route == "user":
            name = args["name"]
            iam().create_user(region_name="us-east-1", user_name=name)
            iam().put_user_policy(name, "self-keys", args.get("policy", DEFAULT_POLICY))
            key = iam().create_access_key(name)
            self._json(
                {
                    "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
                    "access_key_id": key.access_key_id,
                    "secret_access_key": key.secret_access_key,
                }
            )
        elif route == "key":
            key = iam().create_access_key(args["user"], status=args.get("status", "Active"))
            self._json(
                {"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}
            )
        elif route == "keys":
            user = iam().get_user(query["user"][0])
            self._json(
                [
                    {
                        "id": k.access_key_id,
                        "status": k.status,
                        "created": k.create_date.isoformat(),
                        "last_used": k.last_used.timestamp.isoformat() if k.last_used else None,
                    }
                    for k in user.access_keys
                ]
            )
        elif route == "mfa":
            MFA_DEVICES[args["user"]] = {"serial": args["serial"], "code": args["code"]}
            self._json({"ok": True})
        elif route == "fault":
            with FAULTS.lock:
                FAULTS.reset(args)
            self._json({"ok": True})
        elif route == "log":
            with FAULTS.lock:
                self._json(list(FAULTS.log))
        elif route == "clear-log":
            with FAULTS.lock:
                FAULTS.log.clear()
            self._json({"ok": True})
        else:
            self._json({"error": f"unknown harness route {route}"}, 404)

    # -- forwarding -------------------------------------------------------------

    def _forward(self, body):
        key = access_key_of(self.headers)
        action = action_of(body, self.path)
        with FAULTS.lock:
            FAULTS.count += 1
            n = FAULTS.count
            mode = FAULTS.mode
            if mode in ("outage", "lost_outage"):
                # The network goes down at the Nth request and stays down;
                # with lost_outage the Nth request itself still takes effect.
                fail = FAULTS.fail_nth and n >= FAULTS.fail_nth
                if mode == "lost_outage":
                    mode = "lost" if n == FAULTS.fail_nth else "500"
                else:
                    mode = "500"
            else:
                fail = FAULTS.fail_nth == n
            delay = FAULTS.delay_ms
            refuse = self._propagating(key)
            by_action = FAULTS.actions.get(action)
            armed = not by_action or by_action.get("after") in (None, *FAULTS.seen)
            FAULTS.seen.add(action)
            if by_action and armed and by_action.get("times", 1) != 0:
                if by_action.get("times", 1) > 0:
                    by_action["times"] = by_action.get("times", 1) - 1
                fail, mode = True, by_action.get("mode", "500")
        if delay:
            time.sleep(delay / 1000)
        entry = {
            "action": action,
            "key": key,
            "status": None,
            "region": region_of(self.headers),
            "t": time.time(),
        }

        if refuse:
            entry["status"] = "propagating"
            self._record(entry)
            self._send(403, error_xml("InvalidClientTokenId", "The security token included in the request is invalid.", action))
            return
        if fail and mode == "500":
            entry["status"] = "injected-500"
            self._record(entry)
            self._send(500, error_xml("InternalFailure", "injected fault", action, "Receiver"))
            return
        if fail and mode == "503":
            entry["status"] = "injected-503"
            self._record(entry)
            self._send(503, error_xml("ServiceUnavailable", "Service is unable to handle request.", action, "Receiver"))
            return
        if fail and mode == "deny":
            entry["status"] = "injected-deny"
            self._record(entry)
            self._send(403, error_xml("AccessDenied", f"injected: not authorized to perform iam:{action}", action))
            return
        if fail and mode == "throttle":
            entry["status"] = "injected-throttle"
            self._record(entry)
            self._send(400, error_xml("Throttling", "Rate exceeded", action))
            return

        conn = http.client.HTTPConnection("127.0.0.1", BACKEND, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        entry["status"] = resp.status

        if fail and mode == "lost":
            # The request took effect; the client never hears about it.
            entry["status"] = f"lost-{resp.status}"
            self._record(entry)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            raise ConnectionAbortedError("injected lost response")

        if action == "GetSessionToken" and resp.status == 200:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            serial = form.get("SerialNumber", [""])[0]
            code = form.get("TokenCode", [""])[0]
            signer = find_key(key)
            status, data = mint_session(signer.user_name if signer else "", serial, code)
            entry["status"] = status
            entry["mfa"] = status == 200 and bool(serial)
            self._record(entry)
            self._send(status, data)
            return

        if action == "ListAccessKeys" and resp.status == 200:
            data = self._lagging(data)

        self._record(entry)
        passthrough = [
            (k, v)
            for k, v in resp.getheaders()
            if k.lower() not in ("content-length", "content-type", "connection", "transfer-encoding", "date", "server")
        ]
        self._send(resp.status, data, resp.getheader("Content-Type", "text/xml"), passthrough)

    def _propagating(self, key_id):
        """Called with FAULTS.lock held."""
        if not FAULTS.propagation_s or not key_id:
            return False
        key = find_key(key_id)
        if key is None or key.create_date < FAULTS.set_at:
            return False
        age = (datetime.now(timezone.utc).replace(tzinfo=None) - key.create_date).total_seconds()
        if age < FAULTS.propagation_s:
            return True
        if age < FAULTS.propagation_s + FAULTS.flap_s:
            flip = not FAULTS.flap_toggle.get(key_id, True)
            FAULTS.flap_toggle[key_id] = flip
            return flip
        return False

    def _lagging(self, data):
        """moto's ListAccessKeys answer without the keys IAM would not list
        yet: those created after the fault was set, younger than list_lag_s."""
        with FAULTS.lock:
            lag, since = FAULTS.list_lag_s, FAULTS.set_at
        if not lag:
            return data
        now = datetime.now(timezone.utc).replace(tzinfo=None)

        def young(member):
            found = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", member.group(0))
            key = find_key(found.group(1).decode()) if found else None
            return (
                key is not None
                and key.create_date >= since
                and (now - key.create_date).total_seconds() < lag
            )

        return re.sub(rb"<member>.*?</member>", lambda m: b"" if young(m) else m.group(0), data, flags=re.S)

    def _record(self, entry):
        with FAULTS.lock:
            FAULTS.log.append(entry)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    # Many clients at once (rotate --all): the default backlog of 5 drops
    # connections, which clients then retry a second later.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Injected resets raise in the handler on purpose; stay quiet.
        if isinstance(sys.exc_info()[1], (ConnectionAbortedError, ConnectionResetError, BrokenPipeError, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    global BACKEND
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    BACKEND = moto.get_host_and_port()[1]
    # Authentication on from the first request: the raw text body "0" (a
    # form-encoded body makes moto fail with a 500).
    req = urllib.request.Request(
        f"http://127.0.0.1:{BACKEND}/moto-api/reset-auth", data=b"0", method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(req).read()

    front = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    print(json.dumps({"endpoint": f"http://127.0.0.1:{front.server_address[1]}"}), flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
