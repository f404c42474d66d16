#!/usr/bin/env python3
"""archive-index.py IN.tar OUT.tar -- rewrite a `docker save` archive so that
its image names are fully qualified (docker.io/kindest/x:t, not kindest/x:t)
and its 'repositories' index comes first.

Why: `kind build node-image` reads only the first index it meets in each
control-plane archive to learn which images it was given, compares those names
with the fully-qualified names it needs, and fetches the rest from registries.
With every image listed up front under its full name, nothing is fetched.
`ctr images import` (which kind then runs) reads all images of the archive.
"""
import io
import json
import sys
import tarfile


def qualify(name):
    repo, _, tag = name.rpartition(":")
    if not repo or "/" in tag:  # no tag: the colon was a registry port
        repo, tag = name, "latest"
    first = repo.split("/", 1)[0]
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = "docker.io/" + repo
    return repo, tag


def main(src, dst):
    with tarfile.open(src) as tin:
        members = tin.getmembers()
        manifest = json.load(tin.extractfile("manifest.json"))
        repos = {}
        for entry in manifest:
            tags = []
            for t in entry.get("RepoTags") or []:
                repo, tag = qualify(t)
                tags.append(repo + ":" + tag)
                # the value is the image's top layer id, as docker writes it
                top = entry["Layers"][-1].split("/")[0] if entry.get("Layers") else ""
                repos.setdefault(repo, {})[tag] = top
            entry["RepoTags"] = tags
        with tarfile.open(dst, "w") as tout:
            for name, data in (("repositories", json.dumps(repos).encode()),
                               ("manifest.json", json.dumps(manifest).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tout.addfile(info, io.BytesIO(data))
            for m in members:
                if m.name in ("repositories", "manifest.json"):
                    continue
                tout.addfile(m, tin.extractfile(m) if m.isfile() else None)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
