from kubectl_inject.cli import entry

entry()
