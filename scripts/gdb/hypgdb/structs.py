"""Checked access to the hypervisor's data structures through gdb's type
information. Every helper goes through these functions, so a renamed field,
a changed array size or a new enumerator stops the command with a message
naming what changed, instead of printing numbers read from the wrong place."""
import gdb

U64 = (1 << 64) - 1


class ShapeError(gdb.GdbError):
    """The hypervisor's data structures no longer look as the helper expects."""

    def __init__(self, what):
        super().__init__("hyp-gdb: %s -- the hypervisor changed; update scripts/gdb/hypgdb/ "
                         "(and its test, tests/system/test_gdb.py)" % what)


def value(expr):
    """The value of a C++ expression, e.g. "g_vms[0]" or "'(anonymous namespace)::g_release'"."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise ShapeError("cannot evaluate %s (%s)" % (expr, e))


def _struct(v):
    t = v.type.strip_typedefs()
    while t.code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF):
        if t.code == gdb.TYPE_CODE_PTR and int(v) == 0:
            raise ShapeError("null %s where a structure was expected" % v.type)
        v = v.dereference() if t.code == gdb.TYPE_CODE_PTR else v.referenced_value()
        t = v.type.strip_typedefs()
    if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        raise ShapeError("%s is not a structure" % v.type)
    if not t.fields() and t.name:
        # Declared only in this compilation unit: use the full definition.
        try:
            full = gdb.lookup_type(t.name).strip_typedefs()
        except gdb.error:
            full = t
        if full.fields():
            v, t = v.cast(full), full
    return v, t


def _has_field(t, name):
    for f in t.fields():
        if f.name == name:
            return True
        if f.is_base_class and _has_field(f.type.strip_typedefs(), name):
            return True
    return False


def field(v, name):
    """v.name (through pointers), or ShapeError if the type has no such field."""
    v, t = _struct(v)
    if not t.fields():
        raise gdb.GdbError("hyp-gdb: the debug info has no definition of %s (built without "
                           "-fstandalone-debug?): rebuild with make clean && make" % (t.name or t))
    if not _has_field(t, name):
        have = ", ".join(f.name for f in t.fields() if f.name and not f.is_base_class)
        raise ShapeError("%s has no field '%s' (it has: %s)" % (t.name or t, name, have))
    return v[name]


def path(v, dotted):
    """field() along a dotted path: path(g_vms[0], "vgic.s_.spi")."""
    for name in dotted.split("."):
        v = field(v, name)
    return v


def array_len(v):
    t = v.type.strip_typedefs()
    if t.code != gdb.TYPE_CODE_ARRAY:
        raise ShapeError("%s is not an array" % v.type)
    lo, hi = t.range()
    return hi - lo + 1


def elements(v, n=None, at_least=None):
    """The first n elements of array v (all if n is None); at_least checks
    that the array is not shorter than the helper relies on."""
    length = array_len(v)
    if at_least is not None and length < at_least:
        raise ShapeError("%s has %d elements, the helper needs %d" % (v.type, length, at_least))
    if n is None:
        n = length
    if n > length:
        raise ShapeError("asked for %d elements of %s (%d)" % (n, v.type, length))
    # One memory read for the whole array instead of one per element.
    if v.is_lazy:
        v.fetch_lazy()
    return [v[i] for i in range(n)]


def u(v):
    """An integer or pointer value as a Python unsigned 64-bit int."""
    return int(v) & U64


def boolean(v):
    if v.type.strip_typedefs().code != gdb.TYPE_CODE_BOOL:
        raise ShapeError("%s is %s, expected bool" % (v, v.type))
    return bool(v)


def enum_names(type_name, required):
    """{value: short name} of a C++ enum; ShapeError unless every name in
    `required` is an enumerator (the helpers' meaning of the values)."""
    try:
        t = gdb.lookup_type(type_name).strip_typedefs()
    except gdb.error as e:
        raise ShapeError("no type %s (%s)" % (type_name, e))
    if t.code != gdb.TYPE_CODE_ENUM:
        raise ShapeError("%s is not an enum" % type_name)
    names = {f.enumval: f.name.split("::")[-1] for f in t.fields()}
    missing = [r for r in required if r not in names.values()]
    if missing:
        raise ShapeError("enum %s has no %s (it has: %s)" % (type_name, ", ".join(missing),
                                                            ", ".join(names.values())))
    return names


def enum_value(v, type_name, required):
    """Short enumerator name of v; ShapeError for a value outside the enum."""
    names = enum_names(type_name, required)
    n = int(v)
    if n not in names:
        raise ShapeError("%s holds %d, not an enumerator of %s" % (v.type, n, type_name))
    return names[n]


def cstring(v, limit=256):
    if u(v) == 0:
        return "?"
    try:
        return v.string(length=limit) if v.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY \
            else v.string()
    except gdb.error:
        return "?"
