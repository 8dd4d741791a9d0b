"""A rule whose only output is a directory (a tree artifact), to exercise Tree transfers."""

def _file_tree_impl(ctx):
    out = ctx.actions.declare_directory(ctx.attr.name)

    # The seed file makes the tree depend on another action, so the remote cache has to
    # resolve a tree whose inputs are themselves cache hits. Files are written in a fixed
    # order with fixed content so the tree digest is stable across builds.
    ctx.actions.run_shell(
        inputs = [ctx.file.seed],
        outputs = [out],
        arguments = [ctx.file.seed.path, out.path],
        command = """
set -eu
seed="$1"
dir="$2"
mkdir -p "$dir/nested/deeper"
cp "$seed" "$dir/seed.txt"
printf 'alpha\\n' > "$dir/alpha.txt"
seq 1 1000 > "$dir/numbers.txt"
: > "$dir/empty_in_tree.txt"
printf 'nested beta\\n' > "$dir/nested/beta.txt"
seq -f 'row %.0f' 1 5000 > "$dir/nested/deeper/rows.txt"
printf 'gamma\\n' > "$dir/nested/deeper/gamma.txt"
""",
        mnemonic = "FileTree",
        progress_message = "Writing file tree %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

file_tree = rule(
    implementation = _file_tree_impl,
    attrs = {
        "seed": attr.label(allow_single_file = True, mandatory = True),
    },
)
