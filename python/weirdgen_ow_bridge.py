"""weirdgen's bridge to OpenWeights: JSON lines on stdin/stdout, one request per line.

weirdgen starts this script itself (`python3 weirdgen_ow_bridge.py`) for models
`openweights/<base>`; nothing else of weirdgen needs Python. It speaks protocol 1:

  ready   {"ready": true, "protocol": 1, "openweights": "0.13.7"}   (first line)
  request {"id": 1, "op": "get", "args": {"job_id": "ftjob-..."}}
  reply   {"id": 1, "ok": true, "result": {...}}
          {"id": 1, "ok": false, "kind": "spending_limit", "error": "..."}

Ops: upload, submit_finetune, submit_inference, get, fetch, logs, cancel, deploy,
account (see handle()).
The SDK's own prints go to stderr, so stdout carries only the protocol. Deployments
stay up (their heartbeat thread lives here) until stdin closes; then they are
taken down (`api.down()` cancels their jobs) and the bridge exits.

Pinned: job ids hash the SDK's training code, so another version re-keys every job.
"""

import base64
import io
import json
import sys

PINNED = "0.13.7"
PROTOCOL = 1

out = sys.stdout
sys.stdout = sys.stderr  # the SDK prints during create and deploy


def send(obj):
    out.write(json.dumps(obj) + "\n")
    out.flush()


def job_view(job):
    """The fields weirdgen reads of a job row (unknown columns are ignored)."""
    params = job["params"] or {}
    validated = params.get("validated_params") or {}
    outputs = job["outputs"] or {}
    return {
        "id": job["id"],
        "type": job["type"],
        "status": job["status"],
        "model": job["model"],
        "finetuned_model_id": validated.get("finetuned_model_id"),
        "error": outputs.get("error") if isinstance(outputs, dict) else None,
        "file": outputs.get("file") if isinstance(outputs, dict) else None,
    }


def own_token_id(ow):
    """The id of the API key in use, from the claims of a session token, or None."""
    try:
        from openweights.client import exchange_api_token_for_jwt

        jwt = exchange_api_token_for_jwt(ow.supabase_url, ow.supabase_key, ow.auth_token)
        payload = jwt.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload)).get("api_token_id")
    except Exception:  # noqa: BLE001 - then every key is listed, none marked
        return None


class NotFound(Exception):
    """OpenWeights has no such job."""


def kind_of(exc):
    text = str(exc)
    if "spending limit" in text.lower():
        return "spending_limit"
    if type(exc).__name__ == "ApiTokenError":
        return "auth"
    return "error"


def main():
    try:
        try:
            import openweights
        except ImportError as e:
            raise RuntimeError(
                f"the OpenWeights client is not installed: pip install openweights=={PINNED}"
            ) from e
        from importlib.metadata import version

        found = version("openweights")
        if found != PINNED:
            raise RuntimeError(
                f"openweights {found} is installed; weirdgen needs openweights=={PINNED} "
                f"(pip install openweights=={PINNED}): job ids change with the version"
            )
        ow = openweights.OpenWeights()
    except Exception as e:  # noqa: BLE001 - reported to weirdgen as the reason
        send({"ready": False, "kind": kind_of(e), "error": f"{type(e).__name__}: {e}"})
        return 1
    send({"ready": True, "protocol": PROTOCOL, "openweights": PINNED})
    apis = {}

    def handle(op, args):
        if op == "upload":
            data = args["content"].encode("utf-8")
            f = ow.files.create(io.BytesIO(data), purpose=args["purpose"])
            return {"file_id": f["id"]}
        if op == "submit_finetune":
            kwargs = dict(args["params"])
            if args.get("requires_vram_gb") is not None:
                kwargs["requires_vram_gb"] = args["requires_vram_gb"]
            if args.get("allowed_hardware"):
                kwargs["allowed_hardware"] = args["allowed_hardware"]
            return job_view(ow.fine_tuning.create(**kwargs))
        if op == "submit_inference":
            # Inference ids hash the arguments as given, order included: weirdgen sends
            # them sorted, defaults left out, and they are passed on in that order.
            kwargs = dict(args["params"])
            hardware = args.get("allowed_hardware") or None
            return job_view(ow.inference.create(
                requires_vram_gb=args["requires_vram_gb"], allowed_hardware=hardware, **kwargs))
        if op == "fetch":
            text = ow.files.content(args["file_id"]).decode("utf-8", "replace")
            return {"text": text}
        if op == "get":
            try:
                job = ow.jobs.retrieve(args["job_id"])
            except Exception as e:  # noqa: BLE001
                if "0 rows" in str(e) or "PGRST116" in str(e):
                    raise NotFound(f"no job {args['job_id']}") from e
                raise
            return job_view(job)
        if op == "logs":
            runs = ow.jobs.retrieve(args["job_id"]).runs
            logs = [r for r in runs if r.log_file]
            if not logs:
                return {"text": None}
            text = ow.files.content(logs[-1].log_file).decode("utf-8", "replace")
            return {"text": text}
        if op == "cancel":
            job = ow.jobs.retrieve(args["job_id"])
            if job["status"] in ("pending", "in_progress"):
                job = ow.jobs.cancel(args["job_id"])
            return job_view(job)
        if op == "deploy":
            key = (args["model"], tuple(args["lora_adapters"]))
            if key not in apis:
                api = ow.api.deploy(args["model"], lora_adapters=list(args["lora_adapters"]))
                api.up()
                apis[key] = api
                print(f"deployed {args['model']} as job {api.job_id} (ow cancel {api.job_id} stops it)")
            api = apis[key]
            return {"base_url": api.base_url, "api_key": api.api_key, "job_id": api.job_id}
        if op == "account":
            # The client exposes limits only through the organization's cost report: every
            # key's limit (`limits`) and the spend of keys that ran jobs (`api_keys`). Which
            # key is ours it does not say; the claims of our session token do.
            report = ow.costs.report(limit=1)
            spent = {k["api_token_id"]: k for k in report.get("api_keys") or []}
            mine = own_token_id(ow)
            limits = []
            for lim in report.get("limits") or []:
                key = spent.get(lim["api_token_id"], {})
                limits.append({
                    "key": key.get("name") or lim["api_token_id"],
                    "limit_usd": float(lim["limit_usd"]),
                    "spent_usd": float(key.get("total_usd") or 0.0),
                    "this_key": mine is not None and lim["api_token_id"] == mine,
                })
            return {
                "total_usd": float(report.get("total_usd") or 0.0),
                "limits": limits,
                "this_key_known": mine is not None,
            }
        raise ValueError(f"unknown op {op}")

    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                send({"id": req["id"], "ok": True, "result": handle(req["op"], req.get("args", {}))})
            except NotFound as e:
                send({"id": req["id"], "ok": False, "kind": "not_found", "error": str(e)})
            except Exception as e:  # noqa: BLE001 - every failure is a reply
                send({"id": req["id"], "ok": False, "kind": kind_of(e), "error": f"{type(e).__name__}: {e}"})
    finally:
        for api in apis.values():
            api.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
