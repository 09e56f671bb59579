"""Drives Debian's python3-duo-client (duo_client.Auth) against a Tandem server.

Reads a JSON job on stdin, prints one JSON object with every answer. The client's code is used
unchanged: only host, port, ikey, skey, ca_certs and its own signature options are set.
"""
import hashlib
import json
import sys

import duo_client

job = json.load(sys.stdin)
digest = {"sha1": hashlib.sha1, "sha512": hashlib.sha512}[job["digest"]]


def client(ikey, skey):
    return duo_client.Auth(
        ikey=ikey,
        skey=skey,
        host=job["host"],
        port=job["port"],
        ca_certs=job["cafile"],
        sig_version=job["sig_version"],
        digestmod=digest,
    )


def attempt(fn):
    try:
        return {"ok": fn()}
    except Exception as e:  # noqa: BLE001 - the test wants the client's own error text
        return {"error": str(e)}


main = client(job["ikey"], job["skey"])
out = {
    "ping": attempt(main.ping),
    "check": attempt(main.check),
    "preauth_enrolled": attempt(lambda: main.preauth(username=job["user"], ipaddr="192.0.2.10")),
    "preauth_enroll": attempt(lambda: main.preauth(username="nobody-" + job["user"])),
    "preauth_allow": attempt(lambda: client(*job["allow_keys"]).preauth(username="nobody")),
    "preauth_deny": attempt(lambda: client(*job["deny_keys"]).preauth(username="nobody")),
    "auth_totp": attempt(lambda: main.auth("passcode", username=job["user"], passcode=job["totp"], ipaddr="192.0.2.10")),
    "auth_totp_again": attempt(lambda: main.auth("passcode", username=job["user"], passcode=job["totp"], ipaddr="192.0.2.11")),
    "auth_bypass": attempt(lambda: main.auth("passcode", username=job["user"], passcode=job["bypass"])),
}
txn = attempt(lambda: main.auth("passcode", username=job["user"], passcode=job["bypass2"], async_txn=True))
out["auth_async"] = txn
if "ok" in txn:
    out["auth_status"] = attempt(lambda: main.auth_status(txn["ok"]["txid"]))
out["bad_skey"] = attempt(lambda: client(job["ikey"], "x" * 40).check())
print(json.dumps(out))
