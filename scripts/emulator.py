"""Local AWS for the tests and the demo: a moto server with two seeded accounts.

Run with the project venv: `.venv/bin/python scripts/emulator.py [--port N] [--verbose]`.
Prints exactly one line, `READY http://127.0.0.1:<port>`, once seeded, then serves until
stdin reaches EOF or SIGTERM/SIGINT arrives. Tying the lifetime to stdin means a test
harness that dies without cleaning up (its end of the pipe closes) takes the emulator along.

Accounts (the bot's own base credentials land in moto's default account 123456789012):
  111111111111 "dev"   myHelloWorld, devOnlyFunction, alarm myHelloWorld-alarm (ALARM)
  222222222222 "prod"  myHelloWorld, prodOnlyFunction, alarms myHelloWorld-alarm (ALARM)
                       and prod-only-alarm (OK)
Both have the roles chatops-readonly (what the bot assumes) and lambda-basic-execution,
and AWS/Lambda Invocations data points for myHelloWorld.
The bot's account 123456789012 has the notification path: the SNS topic `alarms`
subscribed (raw message delivery off) by the SQS queue `aws-chatops-notifications`, whose
redrive policy moves a message received 5 times to `aws-chatops-notifications-dlq`. (moto
delivers SNS to SQS only within one account, so the topic sits beside the queue.)

Unlike stock moto: `lambda invoke` echoes the payload (and fails for a function the
account lacks) and writes the invocation's log lines to `/aws/lambda/<name>` as Lambda's
Python runtime would (START, the event received, END, REPORT), and invoking myHelloWorld
with a payload that says "fail" also logs an `[ERROR] Exception` line, counts in AWS/Lambda
Errors and fires its alarm (state ALARM, and the state-change notification on the topic
`alarms`, as the seed guide's tutorial does), so the alarm card's chart shows the error and
Show logs finds its lines; support cases stay "opened",
and the request recorder
(/moto-api/recorder/...) writes to a private temp file, removed on exit.
"""

import argparse
import datetime
import io
import json
import logging
import os
import signal
import sys
import tempfile
import urllib.request
import uuid
import zipfile

BOT_ACCOUNT = "123456789012"
REGION = "us-east-1"
ACCOUNTS = {"111111111111": "dev", "222222222222": "prod"}
# Assumed only to write the seed data; moto lets a role be assumed without existing, so this
# one is never created and list-roles shows just the roles the tests care about.
SEED_ROLE = "OrganizationAccountAccessRole"
FUNCTION_CODE = b"""\
def lambda_handler(event, context):
    return event
"""


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("lambda_function.py", FUNCTION_CODE)
    return buf.getvalue()


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=10).read()


def trust_policy(principal):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def seed_account(session, url, account):
    role_arn = f"arn:aws:iam::{account}:role/{SEED_ROLE}"
    creds = session.client("sts", endpoint_url=url).assume_role(
        RoleArn=role_arn, RoleSessionName="emulator-seed"
    )["Credentials"]

    def client(service):
        return session.client(
            service,
            endpoint_url=url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    iam, lam, cw = client("iam"), client("lambda"), client("cloudwatch")

    iam.create_role(
        RoleName="chatops-readonly",
        AssumeRolePolicyDocument=trust_policy({"AWS": f"arn:aws:iam::{BOT_ACCOUNT}:root"}),
        Description="Assumed by aws-chatops",
    )
    exec_role = iam.create_role(
        RoleName="lambda-basic-execution",
        AssumeRolePolicyDocument=trust_policy({"Service": "lambda.amazonaws.com"}),
    )["Role"]["Arn"]

    code = lambda_zip()

    def function(name, **extra):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=exec_role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code},
            **extra,
        )

    function(
        "myHelloWorld",
        Description="AWS Chatbot tutorial function",
        # DB_PASSWORD differs per account so a leak in a test names its account.
        Environment={"Variables": {"GREETING": "hello", "DB_PASSWORD": f"seeded-secret-{account}"}},
    )

    def alarm(name, function_name, state):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": function_name}],
            Statistic="Sum",
            Period=60,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            EvaluationPeriods=1,
        )
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="seeded")

    alarm("myHelloWorld-alarm", "myHelloWorld", "ALARM")

    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    cw.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}],
                "Timestamp": now - datetime.timedelta(minutes=minutes),
                "Value": float(value),
                "Unit": "Count",
            }
            for minutes, value in [(10, 3), (5, 1), (1, 2)]
        ],
    )

    if ACCOUNTS[account] == "dev":
        function("devOnlyFunction")
    else:
        function("prodOnlyFunction")
        alarm("prod-only-alarm", "prodOnlyFunction", "OK")


NOTIFICATION_TOPIC = "alarms"
NOTIFICATION_QUEUE = "aws-chatops-notifications"


def seed_notifications(session, url):
    """The topic → queue path the bot reads notifications from, in the bot's own account."""
    sns = session.client("sns", endpoint_url=url)
    sqs = session.client("sqs", endpoint_url=url)
    dlq_url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE + "-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=NOTIFICATION_QUEUE,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
            "VisibilityTimeout": "30",
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    topic_arn = sns.create_topic(Name=NOTIFICATION_TOPIC)["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


def write_invocation_logs(account, region, function_name, payload, fails):
    """The log lines Lambda's Python runtime writes for one invocation, in the function's log
    group (created on first use, as Lambda does), one stream per invocation. Returns the time
    of the last line. moto's Docker-less Lambda runs no code and writes no logs."""
    from moto.logs.models import logs_backends

    logs = logs_backends[account][region]
    group = f"/aws/lambda/{function_name}"
    if group not in logs.groups:
        logs.create_log_group(group, {})
    now = datetime.datetime.now(datetime.timezone.utc)
    stream = now.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
    logs.create_log_stream(group, stream)
    request_id = str(uuid.uuid4())
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
    lines = [
        f"START RequestId: {request_id} Version: $LATEST",
        f"[INFO]\t{stamp}\t{request_id}\tReceived event: {payload}",
    ]
    if fails:
        lines.append(
            f"[ERROR] Exception: the event asked the function to fail\n"
            f"Traceback (most recent call last):\n"
            f'  File "/var/task/lambda_function.py", line 3, in lambda_handler'
        )
    lines += [
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: 1.52 ms\tBilled Duration: 2 ms\t"
        f"Memory Size: 128 MB\tMax Memory Used: 39 MB",
    ]
    millis = int(now.timestamp() * 1000)
    logs.put_log_events(
        group, stream, [{"timestamp": millis + i, "message": line} for i, line in enumerate(lines)]
    )
    return datetime.datetime.fromtimestamp((millis + len(lines)) / 1000, datetime.timezone.utc)


def fire_tutorial_alarm(account, region, after):
    """The seed guide's tutorial: make myHelloWorld fail, its alarm fires, the notification
    arrives. moto runs no alarm actions, so an invocation with a `"fail"` payload sets the
    alarm to ALARM and publishes CloudWatch's documented state-change message to the
    notification topic, as the alarm's SNS action would. The state changes at `after` (the
    failing invocation's last log line) or later, so its logs are in the alarm's window."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.sns.models import sns_backends

    name = "myHelloWorld-alarm"
    reason = "Threshold Crossed: 1 out of the last 1 datapoints [1.0] was greater than or equal to the threshold (1.0)."
    cloudwatch = cloudwatch_backends[account][region]
    # The failed invocation counts in AWS/Lambda Errors, as Lambda would publish it, so the
    # alarm card's chart shows the datapoint that crossed the threshold.
    cloudwatch.put_metric_data(
        "AWS/Lambda",
        [{
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": "myHelloWorld"}],
            "Value": 1.0,
            "Unit": "Count",
        }],
    )
    cloudwatch.set_alarm_state(name, reason, None, "ALARM")
    changed = max(datetime.datetime.now(datetime.timezone.utc), after)
    now = changed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{changed.microsecond // 1000:03d}+0000"
    message = {
        "AlarmName": name,
        "AlarmDescription": "Errors in myHelloWorld (the tutorial's alarm)",
        "AWSAccountId": account,
        "NewStateValue": "ALARM",
        "NewStateReason": reason,
        "StateChangeTime": now,
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Dimensions": [{"value": "myHelloWorld", "name": "FunctionName"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "missing",
        },
    }
    topic = f"arn:aws:sns:{REGION}:{BOT_ACCOUNT}:{NOTIFICATION_TOPIC}"
    sns_backends[BOT_ACCOUNT][REGION].topics[topic].publish(
        json.dumps(message), subject=f'ALARM: "{name}" in US East (N. Virginia)'
    )


def one_line_errors(record):
    lines = record.getMessage().strip().splitlines()
    if record.levelno >= logging.ERROR and len(lines) > 1:
        record.msg, record.args = "emulator: request failed: " + lines[-1], ()
    return True


def stop(*_):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


class KeepAliveServer:
    """moto's WSGI application served by waitress: one connection serves many requests, as
    AWS's endpoints do. werkzeug's server, which ThreadedMotoServer uses, answers every
    request with `Connection: close`, so each request would also pay a new connection (and
    a new thread in moto), which a per-request benchmark would count as moto's time."""

    def __init__(self, port):
        self.port = port
        self._server = None
        self._thread = None

    def start(self):
        from threading import Thread

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from waitress.server import create_server

        # One warning per request that waits for a thread ("Task queue depth is N"): moto
        # runs one request at a time under the GIL, so under load most of them wait.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

        try:
            self._server = create_server(
                DomainDispatcherApplication(create_backend_app),
                host="127.0.0.1",
                port=self.port,
                # Requests run one at a time under Python's GIL anyway; enough threads and
                # connections that none waits for a free one (a benchmark keeps 100
                # requests in flight).
                threads=16,
                connection_limit=1000,
            )
        except OSError:
            return
        self._thread = Thread(target=self._server.run, daemon=True)
        self._thread.start()

    def get_host_and_port(self):
        return ("127.0.0.1", int(self._server.effective_port))

    def stop(self):
        if self._server is not None:
            self._server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="serve moto with waitress, which keeps connections open as AWS does (the "
        "benchmarks; werkzeug's server closes every connection after one request)",
    )
    args = parser.parse_args()

    # Both signals raise KeyboardInterrupt, so every `finally` below runs.
    signal.signal(signal.SIGTERM, stop)
    # A shell starts background jobs with SIGINT ignored, so that Ctrl-C in the demo's
    # REPL reaches the bot and not the emulator; keep it that way.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)

    # moto lets MOTO_ACCOUNT_ID override the account of every request, which would merge
    # the accounts; and its recorder writes ./moto_recording by default, which parallel
    # emulators would share (and which would litter the caller's cwd).
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    own_recording = "MOTO_RECORDER_FILEPATH" not in os.environ
    if own_recording:
        fd, os.environ["MOTO_RECORDER_FILEPATH"] = tempfile.mkstemp(prefix="moto-recording-")
        os.close(fd)
    try:
        return serve(args)
    except KeyboardInterrupt:  # before the server started
        return 1
    finally:
        if own_recording:
            os.unlink(os.environ["MOTO_RECORDER_FILEPATH"])


def serve(args):
    # Imported late: moto reads the environment at import time.
    import boto3
    from moto.server import ThreadedMotoServer

    # Werkzeug logs every request, and a full traceback for each action moto lacks, to
    # stderr; a harness that pipes stderr without reading it would eventually block the
    # server. Quiet mode keeps one line per failed request.
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        logging.getLogger("werkzeug").addFilter(one_line_errors)

    # moto's Docker-less Lambda answers any Invoke, even of a function that does not exist
    # (or exists only in another account), with 200 and the payload; make it look the
    # function up first, as Lambda does, so account isolation shows on invoke too.
    from moto.awslambda_simple.models import LambdaSimpleBackend

    echo = LambdaSimpleBackend.invoke

    def invoke(self, function_name, qualifier, *rest):
        function = self.get_function(function_name, qualifier)
        result = echo(self, function_name, qualifier, *rest)
        body = rest[0] if rest else None
        fails = function_name == "myHelloWorld" and body and '"fail"' in str(body)
        logged = write_invocation_logs(
            self.account_id, self.region_name, function.function_name, body or "{}", fails
        )
        if fails:
            fire_tutorial_alarm(self.account_id, self.region_name, logged)
        return result

    LambdaSimpleBackend.invoke = invoke

    class Server(ThreadedMotoServer):
        # ThreadedMotoServer.start() waits forever when the port cannot be bound.
        def _server_entry(self):
            try:
                super()._server_entry()
            finally:
                self._server_ready_event.set()

    server = (
        KeepAliveServer(args.port)
        if args.keep_alive
        else Server(ip_address="127.0.0.1", port=args.port, verbose=False)
    )
    server.start()
    if server._server is None:
        print(f"emulator: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    url = "http://127.0.0.1:%d" % server.get_host_and_port()[1]

    ready = False
    try:
        try:
            # Without Docker, `lambda invoke` answers with the request payload. Must come
            # before seeding: moto keeps Docker-less functions in a separate backend.
            post(url + "/moto-api/config", {"lambda": {"use_docker": False}})
            # moto moves a support case one status on per DescribeCases (and hides it
            # while "resolved"); keep cases "opened" so results are repeatable.
            post(
                url + "/moto-api/state-manager/set-transition",
                {
                    "model_name": "support::case",
                    "transition": {"progression": "manual", "times": 2**31},
                },
            )
            # Explicit fake keys so nothing from the caller's environment or ~/.aws leaks in.
            session = boto3.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name=REGION,
            )
            for account in ACCOUNTS:
                seed_account(session, url, account)
            seed_notifications(session, url)
        except Exception as e:
            print(f"emulator: seeding failed: {type(e).__name__}: {e}", file=sys.stderr)
            return 1

        ready = True
        print("READY " + url, flush=True)
        try:
            while os.read(0, 4096):
                pass
        except OSError:  # no stdin at all: same as EOF
            pass
        return 0
    except KeyboardInterrupt:
        return 0 if ready else 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
