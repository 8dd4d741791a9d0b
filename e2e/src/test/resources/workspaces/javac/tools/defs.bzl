"""java_lib: Java sources compiled into one jar by the javac persistent worker.

The compile action runs `tools/java.sh -jar tools/javac-worker.jar @PARAMS`, with one argument per
line in PARAMS (--output, --classpath, --source, --javacopt). It supports Bazel's worker strategy:
Bazel then starts `tools/java.sh -jar tools/javac-worker.jar --persistent_worker` once and sends it
the params as WorkRequests.

Two --define values choose how the worker is spoken to:
  --define=JAVAC_WORKER_PROTOCOL=json   JSON instead of protobuf (Bazel 4.2 also needs
                                        --experimental_worker_allow_json_protocol)
  --define=JAVAC_WORKER_MULTIPLEX=1     a multiplex worker (Bazel 4.2 also needs
                                        --experimental_worker_multiplex)
"""

JavaLibInfo = provider(
    doc = "The jars a java_lib's users compile and run against.",
    fields = {"jars": "depset of the library's own jar and the jars of all its dependencies"},
)

def _java_lib_impl(ctx):
    jar = ctx.outputs.jar
    dep_jars = depset(transitive = [dep[JavaLibInfo].jars for dep in ctx.attr.deps])

    args = ctx.actions.args()
    args.add("--output", jar)
    args.add_all(dep_jars, before_each = "--classpath")
    args.add_all(ctx.files.srcs, before_each = "--source")
    args.add_all(ctx.attr.javacopts, before_each = "--javacopt")
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")

    startup = ["-jar", ctx.file._worker_jar.path]
    requirements = {"supports-workers": "1"}
    protocol = ctx.var.get("JAVAC_WORKER_PROTOCOL", "proto")
    if protocol == "json":
        requirements["requires-worker-protocol"] = "json"
        startup.append("--protocol=json")
    elif protocol != "proto":
        fail("--define=JAVAC_WORKER_PROTOCOL must be proto or json, not " + protocol)
    if ctx.var.get("JAVAC_WORKER_MULTIPLEX", "0") == "1":
        requirements["supports-multiplex-workers"] = "1"

    ctx.actions.run(
        executable = ctx.executable._java,
        arguments = startup + [args],
        inputs = depset(ctx.files.srcs, transitive = [dep_jars]),
        # A tool, not just an input: Bazel keys its workers on their tools' digests, so a new
        # worker jar starts new workers instead of reusing ones running the old code.
        tools = [ctx.file._worker_jar],
        outputs = [jar],
        mnemonic = "JavaLib",
        progress_message = "Compiling Java library " + str(ctx.label),
        execution_requirements = requirements,
    )
    return [
        DefaultInfo(files = depset([jar])),
        JavaLibInfo(jars = depset([jar], transitive = [dep_jars])),
    ]

java_lib = rule(
    implementation = _java_lib_impl,
    doc = "Compiles srcs against the jars of deps (and theirs) into <name>.jar.",
    attrs = {
        "srcs": attr.label_list(allow_files = [".java"]),
        "deps": attr.label_list(providers = [JavaLibInfo]),
        "javacopts": attr.string_list(),
        "_java": attr.label(
            default = "//tools:java.sh",
            allow_single_file = True,
            executable = True,
            cfg = "exec",
        ),
        "_worker_jar": attr.label(
            default = "//tools:javac-worker.jar",
            allow_single_file = True,
        ),
    },
    outputs = {"jar": "%{name}.jar"},
)
