from kubectl_inject.launch import entry

entry()
