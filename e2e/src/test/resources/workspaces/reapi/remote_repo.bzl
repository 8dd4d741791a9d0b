"""A remotable repository rule that runs scripts uploaded from the main workspace."""

def _impl(ctx):
    # The script is named by a label: Bazel uploads it and runs it as "cmd.sh", relative to the
    # input root.
    res = ctx.execute([Label("//:cmd.sh"), Label("//:hello.txt")])
    if res.return_code != 0:
        fail("cmd.sh: return code 0 expected, but was %d: %s" % (res.return_code, res.stderr))
    if res.stdout.strip() != "hello world":
        fail("cmd.sh: stdout 'hello world' expected, but was '%s'" % res.stdout)

    # Where the commands ran, so that the test can tell a remote run from a local one.
    where = ctx.execute([Label("//:where.sh")])
    if where.return_code != 0:
        fail("where.sh: return code %d: %s" % (where.return_code, where.stderr))
    ctx.file("where.txt", where.stdout)
    ctx.file("BUILD", 'exports_files(["where.txt"])\n')

remote_foo_configure = repository_rule(
    implementation = _impl,
    remotable = True,
)
