"""The lab's Pod, exactly as `kubectl run mywebserver --image nginx --dry-run=client -oyaml`
prints it: the input of the sidecar-injection lab, shared by tests and benchmarks."""

LAB_POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: mywebserver
  name: mywebserver
spec:
  containers:
  - image: nginx
    name: mywebserver
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
"""
