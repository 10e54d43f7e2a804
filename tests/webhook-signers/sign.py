"""Signs a webhook body the way a sender's own library does, for the receiver's tests.

Usage: sign.py SCHEME SECRET BODY_FILE TIMESTAMP ID
Prints the request headers as a JSON object. Standard Webhooks and Stripe sign with their
libraries (standardwebhooks, stripe); Slack and generic HMAC with Python's hmac, as Slack's
documentation describes. GitHub is signed by sign.mjs (@octokit/webhooks-methods).
"""

import datetime
import hashlib
import hmac
import json
import sys


def main():
    scheme, secret, body_file, timestamp, event_id = sys.argv[1:6]
    with open(body_file, "rb") as f:
        body = f.read().decode("utf-8")
    timestamp = int(timestamp)
    if scheme == "standard-webhooks":
        from standardwebhooks.webhooks import Webhook

        at = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
        signature = Webhook(secret).sign(event_id, at, body)
        headers = {
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
    elif scheme == "stripe":
        from stripe import WebhookSignature

        header = WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
        headers = {"stripe-signature": header}
    elif scheme == "slack":
        base = f"v0:{timestamp}:{body}".encode("utf-8")
        digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
        headers = {"x-slack-signature": f"v0={digest}", "x-slack-request-timestamp": str(timestamp)}
    elif scheme == "hmac":
        # The receiver's test configures sha512, base64, prefix "sha512=", "{timestamp}.{body}".
        import base64

        signed = f"{timestamp}.{body}".encode("utf-8")
        digest = base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha512).digest())
        headers = {"x-signature": "sha512=" + digest.decode("ascii"), "x-timestamp": str(timestamp)}
    else:
        sys.exit(f"unknown scheme {scheme}")
    print(json.dumps(headers))


main()
