"""The AWS CLI side of tests/differential.rs: the AWS CLI's own example commands, run in this one
process through awscli's clidriver against one seeded moto.

    .venv/bin/python tests/differential/driver.py --endpoint URL seed
    .venv/bin/python tests/differential/driver.py --endpoint URL examples SERVICE...
    .venv/bin/python tests/differential/driver.py --endpoint URL run < lines

`seed` creates resources in the dev account (111111111111) for the examples to find. `examples`
prints, one JSON object a line, each read-only example of the services (read-only as
commands/services/<service>.json.gz says, which is what the bot refuses or runs) with what the AWS CLI
printed for it, run as the bot's role in the dev account: `{"service", "operation", "source",
"line", "cli": {"json": ...} | {"error": CODE}}`. `run` does the same for command lines read
from standard input (`ec2 describe-vpcs --vpc-ids vpc-1`).

Skipped, and counted on standard error: examples that read or write local files (`file://`,
an output file), use shell variables, pipes or redirections, or set another endpoint.
"""

import argparse
import contextlib
import io
import gzip
import json
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEV = "111111111111"
ROLE = f"arn:aws:iam::{DEV}:role/chatops-readonly"
SEED_ROLE = f"arn:aws:iam::{DEV}:role/OrganizationAccountAccessRole"
REGION = "us-east-1"
ERROR = re.compile(r"An error occurred \(([^)]+)\)")
# The AWS CLI refused the command line itself (usage, parameter validation, a bad --query).
REJECTED = ("usage:", "aws: error", "Parameter validation failed", "Error parsing parameter",
            "arguments are required", "Invalid length for parameter", "Parse error at column",
            "Bad value for --query")


def assumed(endpoint, role):
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return sts.assume_role(RoleArn=role, RoleSessionName="differential")["Credentials"]


def seed(endpoint):
    """Resources named as the examples name them, where moto can hold them."""
    import boto3

    c = assumed(endpoint, SEED_ROLE)
    session = boto3.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        region_name=REGION,
    )

    def client(name, region=REGION):
        return session.client(name, endpoint_url=endpoint, region_name=region)

    ec2 = client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="my-sg", Description="My security group", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                        "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "SSH"}]}],
    )
    ec2.run_instances(
        ImageId=image, MinCount=2, MaxCount=2, InstanceType="t2.micro", SubnetId=subnet,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "my-instance"}]}],
    )
    ec2.create_key_pair(KeyName="my-key-pair")
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)

    s3 = client("s3")
    s3.create_bucket(Bucket="amzn-s3-demo-bucket")
    s3.put_bucket_tagging(Bucket="amzn-s3-demo-bucket",
                          Tagging={"TagSet": [{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "dev"}]})
    for key, body in [("HappyFace.jpg", b"jpeg"), ("photos/2024/a b+c.txt", b"text"), ("naïve/é.txt", b"x" * 100),
                      ("index.html", b"<html></html>"), ("doc1.rtf", b"{\\rtf1}")]:
        s3.put_object(Bucket="amzn-s3-demo-bucket", Key=key, Body=body, Metadata={"owner": "ops"})
    s3.put_object_tagging(Bucket="amzn-s3-demo-bucket", Key="doc1.rtf",
                          Tagging={"TagSet": [{"Key": "designation", "Value": "confidential"}]})
    s3.create_bucket(Bucket="text-content")
    s3.put_object(Bucket="text-content", Key="dir/my_data", Body=b"data")
    client("s3", "eu-west-1").create_bucket(
        Bucket="amzn-s3-demo-bucket-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    client("route53").create_hosted_zone(Name="example.com", CallerReference="differential")
    cf = client("cloudfront")
    cf.create_distribution(DistributionConfig={
        "CallerReference": "differential", "Comment": "example", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": "amzn-s3-demo-bucket.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })

    client("ecs").create_cluster(clusterName="MyCluster")
    client("ecs").create_cluster(clusterName="default")
    eks = client("eks")
    eks.create_cluster(name="my-eks-cluster", roleArn=f"arn:aws:iam::{DEV}:role/eks",
                       resourcesVpcConfig={"subnetIds": [subnet]})
    eks.create_nodegroup(clusterName="my-eks-cluster", nodegroupName="my-eks-nodegroup",
                         subnets=[subnet], nodeRole=f"arn:aws:iam::{DEV}:role/eks-node")
    client("dynamodb").create_table(
        TableName="MusicCollection",
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("sns").create_topic(Name="my-topic")
    client("sqs").create_queue(QueueName="MyQueue")
    logs = client("logs")
    logs.create_log_group(logGroupName="my-logs")
    logs.create_log_stream(logGroupName="my-logs", logStreamName="20150601")
    client("kinesis").create_stream(StreamName="samplestream", ShardCount=1)
    client("events").put_rule(Name="DailyLambdaFunction", ScheduleExpression="rate(1 day)")
    client("ssm").put_parameter(Name="MyStringParameter", Value="Veni", Type="String")
    client("ssm").put_parameter(Name="MyParameter", Value="Vidi", Type="String")
    client("apigateway").create_rest_api(name="my-api")
    client("autoscaling").create_launch_configuration(
        LaunchConfigurationName="my-launch-config", ImageId=image, InstanceType="t2.micro")
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="my-asg", LaunchConfigurationName="my-launch-config",
        MinSize=0, MaxSize=1, VPCZoneIdentifier=subnet)
    for stack in ("myteststack", "my-stack"):
        client("cloudformation").create_stack(
            StackName=stack,
            TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
        )


def cli_env(endpoint):
    c = assumed(endpoint, ROLE)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # No retries: moto's errors are final, and the bot's side doesn't retry either.
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "1",
    })
    os.environ.pop("AWS_PROFILE", None)


DRIVER = []


def run_cli(args):
    """What the AWS CLI prints for `aws ARGS --output json`: the JSON, or the error code.
    `--endpoint-url` because the AWS CLI ignores AWS_ENDPOINT_URL for some services (RDS in
    us-east-1: awscli/customizations/overridesslcommonname.py)."""
    from awscli.clidriver import create_clidriver

    # One driver for every example: its session and loaded models are reused. `--region`
    # sticks to the session, so an example with it gets a driver of its own.
    own = "--region" in args
    if not DRIVER:
        DRIVER.append(create_clidriver())
    driver = create_clidriver() if own else DRIVER[0]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = driver.main(
                args + ["--output", "json", "--endpoint-url", os.environ["AWS_ENDPOINT_URL"]])
        except SystemExit as e:
            rc = e.code
    if rc == 0:
        text = out.getvalue()
        return {"json": json.loads(text) if text.strip() else None, "text": text}
    if any(marker in err.getvalue() for marker in REJECTED):
        return {"rejected": err.getvalue().strip()[-300:]}
    m = ERROR.search(err.getvalue())
    if m and m.group(1) == "500":
        return {"error": "500", "emulator": "500"}
    if m:
        return {"error": m.group(1)}
    # moto answers an operation it lacks with an HTML 500, which botocore can't parse as XML.
    if "500 Internal Server Error" in err.getvalue():
        return {"error": "500", "emulator": "500 (HTML)"}
    return {"error": "CLI" + str(rc), "stderr": err.getvalue().strip()[-300:]}


def example_lines(text):
    """The `aws ...` command lines of an example file, continuation lines joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        # Windows variants (`^` continuations) repeat the Linux ones.
        if line.startswith("aws ") and not line.endswith("^"):
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1].rstrip() + " " + lines[i].strip()
            yield line
        i += 1


SKIP = re.compile(r"file://|fileb://|\$|`|--cli-input-json|--generate-cli-skeleton|--endpoint-url|--profile|--debug")


def usable(line):
    if SKIP.search(line):
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if any(w in ("|", ">", "<", ">>", "&&") for w in words):
        return None
    words = words[1:]
    # Our --output json is added to both sides.
    if "--output" in words:
        i = words.index("--output")
        del words[i:i + 2]
    return words


def examples(services):
    import awscli

    root = Path(awscli.__file__).parent / "examples"
    skipped = 0
    for service in services:
        # The catalog's compact form leaves out members that are false (commands/README.md).
        catalog = json.loads(gzip.decompress((ROOT / "commands" / "services" / f"{service}.json.gz").read_bytes()))
        read_only = {op["name"] for op in catalog["operations"] if op.get("read_only")}
        for path in sorted((root / service).glob("*.rst")):
            operation = path.stem
            if operation not in read_only:
                continue
            for line in example_lines(path.read_text()):
                words = usable(line)
                if not words or words[:2] != [service, operation]:
                    skipped += 1
                    continue
                yield {"service": service, "operation": operation,
                       "source": f"awscli/examples/{service}/{path.name}",
                       "args": words}
    print(f"driver: skipped {skipped} example lines (files, variables, pipes)", file=sys.stderr)


def emit(record):
    record["line"] = shlex.join(record["args"])
    record["cli"] = run_cli(record.pop("args"))
    print(json.dumps(record), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("mode", choices=["seed", "examples", "run"])
    parser.add_argument("services", nargs="*")
    args = parser.parse_args()
    if args.mode == "seed":
        seed(args.endpoint)
        return 0
    cli_env(args.endpoint)
    if args.mode == "examples":
        for record in examples(args.services):
            emit(record)
    else:
        for line in sys.stdin:
            if line.strip():
                words = shlex.split(line)
                emit({"service": words[0], "operation": words[1], "source": "stdin", "args": words})
    return 0


if __name__ == "__main__":
    sys.exit(main())
