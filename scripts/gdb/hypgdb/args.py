"""Argument parsing shared by the helpers."""
import gdb


def optional_int(arg, usage):
    """None for no argument, else the value of a gdb expression: `2`, `$n`,
    `$_thread - 1`. Evaluate it before switching the stub to physical
    addresses: the expression may read memory the usual way."""
    if not arg.strip():
        return None
    try:
        return int(gdb.parse_and_eval(arg))
    except gdb.error as e:
        raise gdb.GdbError("usage: %s (%s)" % (usage, e))


def split_vm(arg, usage):
    """(VM index, the rest of the arguments) of a helper that takes an
    optional `vm=M` among its arguments; VM 0 without one."""
    vm, rest = 0, []
    for word in arg.split():
        if word.startswith("vm="):
            try:
                vm = int(gdb.parse_and_eval(word[3:]))
            except gdb.error as e:
                raise gdb.GdbError("usage: %s (%s)" % (usage, e))
        else:
            rest.append(word)
    return vm, " ".join(rest)
