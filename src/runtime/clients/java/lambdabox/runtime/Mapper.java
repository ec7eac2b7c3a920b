// lambdabox's Java runtime client: the event/result mapping between JSON and Java types.
//
// Follows the AWS Java runtime's Jackson configuration where it is observable: beans are read
// through public setters (then public fields), written through public getters (`getX`, `isX`
// for booleans) and public fields, with standard bean naming (`getURL` is "URL"); null
// properties are left out; unknown properties are ignored; an empty string is a null object;
// a single value is accepted where a collection is expected; unknown enum names become null.
// Property names match exactly, then case-insensitively (as AWS's event mixins make
// `Records` reach `setRecords`).
package lambdabox.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

final class Mapper {
    static final class MappingException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MappingException(String message) {
            super(message);
        }
    }

    private Mapper() {}

    // ---- JSON value -> Java ------------------------------------------------------------

    static Object convert(Object v, Type t) {
        Class<?> raw = rawClass(t);
        if (raw == Object.class) {
            return v;
        }
        if (v == null) {
            return raw.isPrimitive() ? primitiveDefault(raw) : (raw == Optional.class ? Optional.empty() : null);
        }
        if (raw == Optional.class) {
            return Optional.ofNullable(convert(v, typeArg(t, 0)));
        }
        if (raw == String.class || raw == CharSequence.class) {
            if (v instanceof Map || v instanceof List) {
                throw mismatch(raw, v);
            }
            return v instanceof Double ? Json.write(v) : v.toString();
        }
        if (raw.isPrimitive() || Number.class.isAssignableFrom(raw) || raw == Boolean.class || raw == Character.class) {
            return scalar(v, raw);
        }
        if (raw.isEnum()) {
            return enumValue(raw, v);
        }
        if (raw == Date.class && v instanceof Number) {
            return new Date(((Number) v).longValue());
        }
        if (raw == byte[].class && v instanceof String) {
            return Base64.getDecoder().decode((String) v);
        }
        if (raw.isArray()) {
            List<?> list = asList(v);
            Type comp = t instanceof GenericArrayType ? ((GenericArrayType) t).getGenericComponentType() : raw.getComponentType();
            Object arr = Array.newInstance(rawClass(comp), list.size());
            for (int k = 0; k < list.size(); k++) {
                Array.set(arr, k, convert(list.get(k), comp));
            }
            return arr;
        }
        if (Collection.class.isAssignableFrom(raw)) {
            Collection<Object> c = newCollection(raw);
            for (Object e : asList(v)) {
                c.add(convert(e, typeArg(t, 0)));
            }
            return c;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!(v instanceof Map)) {
                throw mismatch(raw, v);
            }
            Map<Object, Object> m = newMap(raw);
            Type kt = typeArg(t, 0);
            Type vt = typeArg(t, 1);
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                m.put(convert(e.getKey(), kt), convert(e.getValue(), vt));
            }
            return m;
        }
        if ("".equals(v)) {
            return null; // ACCEPT_EMPTY_STRING_AS_NULL_OBJECT
        }
        if (v instanceof List && ((List<?>) v).isEmpty()) {
            return null; // ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT
        }
        if (v instanceof List && ((List<?>) v).size() == 1) {
            return convert(((List<?>) v).get(0), t); // UNWRAP_SINGLE_VALUE_ARRAYS
        }
        if (!(v instanceof Map)) {
            throw mismatch(raw, v);
        }
        return bean((Map<?, ?>) v, raw, t);
    }

    private static MappingException mismatch(Class<?> raw, Object v) {
        String kind = v instanceof Map ? "Object value (token `JsonToken.START_OBJECT`)"
                : v instanceof List ? "Array value (token `JsonToken.START_ARRAY`)"
                : v instanceof String ? "String value" : "value " + v;
        return new MappingException("Cannot deserialize value of type `" + raw.getName() + "` from " + kind);
    }

    private static Object bean(Map<?, ?> json, Class<?> raw, Type t) {
        if (raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
            throw new MappingException("Cannot construct instance of `" + raw.getName()
                    + "` (no Creators, like default constructor, exist): abstract types either need to be mapped to concrete types");
        }
        Object obj;
        try {
            Constructor<?> ctor = raw.getDeclaredConstructor();
            ctor.setAccessible(true);
            obj = ctor.newInstance();
        } catch (NoSuchMethodException e) {
            throw new MappingException("Cannot construct instance of `" + raw.getName()
                    + "` (no Creators, like default constructor, exist)");
        } catch (ReflectiveOperationException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new MappingException("Cannot construct instance of `" + raw.getName() + "`: " + c);
        }
        Map<String, Method> setters = setters(raw);
        Map<String, Field> fields = publicFields(raw);
        for (Map.Entry<?, ?> e : json.entrySet()) {
            String name = String.valueOf(e.getKey());
            Method m = lookup(setters, name);
            try {
                if (m != null) {
                    open(m);
                    m.invoke(obj, convert(e.getValue(), resolve(m.getGenericParameterTypes()[0], t)));
                    continue;
                }
                Field f = lookup(fields, name);
                if (f != null && !Modifier.isFinal(f.getModifiers())) {
                    open(f);
                    f.set(obj, convert(e.getValue(), resolve(f.getGenericType(), t)));
                }
            } catch (ReflectiveOperationException ex) {
                Throwable c = ex.getCause() == null ? ex : ex.getCause();
                throw new MappingException("Cannot set property \"" + name + "\" of `" + raw.getName() + "`: " + c);
            }
        }
        return obj;
    }

    /** Public members of a non-public class (a handler's nested bean) need this to be called. */
    private static void open(java.lang.reflect.AccessibleObject member) {
        try {
            member.setAccessible(true);
        } catch (RuntimeException e) {
            // a module that is not open: the plain call may still be allowed
        }
    }

    private static <T> T lookup(Map<String, T> byName, String name) {
        T exact = byName.get(name);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, T> e : byName.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    private static final Map<Class<?>, Map<String, Method>> SETTERS = new HashMap<>();
    private static final Map<Class<?>, Map<String, Method>> GETTERS = new HashMap<>();

    private static synchronized Map<String, Method> setters(Class<?> c) {
        Map<String, Method> m = SETTERS.get(c);
        if (m == null) {
            m = new LinkedHashMap<>();
            for (Method x : c.getMethods()) {
                String n = x.getName();
                if (n.length() > 3 && n.startsWith("set") && x.getParameterCount() == 1
                        && !Modifier.isStatic(x.getModifiers()) && !x.isBridge()) {
                    m.put(beanName(n.substring(3)), x);
                }
            }
            SETTERS.put(c, m);
        }
        return m;
    }

    private static synchronized Map<String, Method> getters(Class<?> c) {
        Map<String, Method> m = GETTERS.get(c);
        if (m == null) {
            m = new LinkedHashMap<>();
            for (Method x : c.getMethods()) {
                String n = x.getName();
                if (x.getParameterCount() != 0 || Modifier.isStatic(x.getModifiers()) || x.isBridge()
                        || x.getDeclaringClass() == Object.class || x.getReturnType() == void.class) {
                    continue;
                }
                if (n.length() > 3 && n.startsWith("get")) {
                    m.put(beanName(n.substring(3)), x);
                } else if (n.length() > 2 && n.startsWith("is")
                        && (x.getReturnType() == boolean.class || x.getReturnType() == Boolean.class)) {
                    m.put(beanName(n.substring(2)), x);
                }
            }
            GETTERS.put(c, m);
        }
        return m;
    }

    private static Map<String, Field> publicFields(Class<?> c) {
        Map<String, Field> m = new LinkedHashMap<>();
        for (Field f : c.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) && !Modifier.isTransient(f.getModifiers())) {
                m.put(f.getName(), f);
            }
        }
        return m;
    }

    /** Standard bean naming: `URL` stays `URL`, `Name` becomes `name`. */
    private static String beanName(String s) {
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isUpperCase(s.charAt(1))) {
            return s;
        }
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static Object scalar(Object v, Class<?> raw) {
        Class<?> box = box(raw);
        if (box == Boolean.class) {
            if (v instanceof Boolean) {
                return v;
            }
            if (v instanceof String && ("true".equals(v) || "false".equals(v))) {
                return Boolean.valueOf((String) v);
            }
            if (v instanceof Number) {
                return ((Number) v).intValue() != 0;
            }
            throw mismatch(raw, v);
        }
        if (box == Character.class) {
            String str = v.toString();
            if (str.length() == 1) {
                return str.charAt(0);
            }
            throw mismatch(raw, v);
        }
        BigDecimal d;
        if (v instanceof Number) {
            d = v instanceof Double ? BigDecimal.valueOf((Double) v) : new BigDecimal(v.toString());
        } else if (v instanceof String) {
            String str = ((String) v).trim();
            if (str.isEmpty()) {
                return raw.isPrimitive() ? primitiveDefault(raw) : null;
            }
            try {
                d = new BigDecimal(str);
            } catch (NumberFormatException e) {
                throw new MappingException("Cannot deserialize value of type `" + raw.getName()
                        + "` from String \"" + str + "\": not a valid representation");
            }
        } else {
            throw mismatch(raw, v);
        }
        if (box == Integer.class) return d.intValue();
        if (box == Long.class) return d.longValue();
        if (box == Double.class) return d.doubleValue();
        if (box == Float.class) return d.floatValue();
        if (box == Short.class) return d.shortValue();
        if (box == Byte.class) return d.byteValue();
        if (box == BigInteger.class) return d.toBigInteger();
        if (box == BigDecimal.class || box == Number.class) return d;
        throw mismatch(raw, v);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Class<?> raw, Object v) {
        if (v instanceof Number) {
            Object[] all = raw.getEnumConstants();
            int k = ((Number) v).intValue();
            return k >= 0 && k < all.length ? all[k] : null;
        }
        try {
            return Enum.valueOf((Class) raw, v.toString());
        } catch (IllegalArgumentException e) {
            return null; // READ_UNKNOWN_ENUM_VALUES_AS_NULL
        }
    }

    private static List<?> asList(Object v) {
        if (v instanceof List) {
            return (List<?>) v;
        }
        List<Object> one = new ArrayList<>();
        one.add(v); // ACCEPT_SINGLE_VALUE_AS_ARRAY
        return one;
    }

    @SuppressWarnings("unchecked")
    private static Collection<Object> newCollection(Class<?> raw) {
        if (!raw.isInterface() && !Modifier.isAbstract(raw.getModifiers())) {
            try {
                return (Collection<Object>) raw.getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new MappingException("Cannot construct a collection of type " + raw.getName());
            }
        }
        if (SortedSet.class.isAssignableFrom(raw)) return new TreeSet<>();
        if (Set.class.isAssignableFrom(raw)) return new LinkedHashSet<>();
        return new ArrayList<>();
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> newMap(Class<?> raw) {
        if (!raw.isInterface() && !Modifier.isAbstract(raw.getModifiers())) {
            try {
                return (Map<Object, Object>) raw.getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new MappingException("Cannot construct a map of type " + raw.getName());
            }
        }
        return SortedMap.class.isAssignableFrom(raw) ? new TreeMap<>() : new LinkedHashMap<>();
    }

    static Class<?> rawClass(Type t) {
        if (t == null) {
            return Object.class;
        }
        if (t instanceof Class) {
            return (Class<?>) t;
        }
        if (t instanceof ParameterizedType) {
            return rawClass(((ParameterizedType) t).getRawType());
        }
        if (t instanceof GenericArrayType) {
            return Array.newInstance(rawClass(((GenericArrayType) t).getGenericComponentType()), 0).getClass();
        }
        if (t instanceof WildcardType) {
            Type[] up = ((WildcardType) t).getUpperBounds();
            return up.length == 0 ? Object.class : rawClass(up[0]);
        }
        if (t instanceof TypeVariable) {
            Type[] b = ((TypeVariable<?>) t).getBounds();
            return b.length == 0 ? Object.class : rawClass(b[0]);
        }
        return Object.class;
    }

    private static Type typeArg(Type t, int k) {
        if (t instanceof ParameterizedType) {
            Type[] a = ((ParameterizedType) t).getActualTypeArguments();
            if (k < a.length) {
                return a[k];
            }
        }
        return Object.class;
    }

    /** Resolves a member's type variables against the concrete bean type `owner`. */
    private static Type resolve(Type member, Type owner) {
        if (member instanceof TypeVariable && owner instanceof ParameterizedType) {
            TypeVariable<?>[] vars = rawClass(owner).getTypeParameters();
            Type[] args = ((ParameterizedType) owner).getActualTypeArguments();
            for (int k = 0; k < vars.length && k < args.length; k++) {
                if (vars[k].getName().equals(((TypeVariable<?>) member).getName())) {
                    return args[k];
                }
            }
        }
        return member;
    }

    private static Class<?> box(Class<?> c) {
        if (!c.isPrimitive()) return c;
        if (c == int.class) return Integer.class;
        if (c == long.class) return Long.class;
        if (c == double.class) return Double.class;
        if (c == float.class) return Float.class;
        if (c == boolean.class) return Boolean.class;
        if (c == short.class) return Short.class;
        if (c == byte.class) return Byte.class;
        if (c == char.class) return Character.class;
        return c;
    }

    private static Object primitiveDefault(Class<?> c) {
        if (c == boolean.class) return Boolean.FALSE;
        if (c == char.class) return '\0';
        if (c == double.class) return 0.0d;
        if (c == float.class) return 0.0f;
        if (c == long.class) return 0L;
        if (c == short.class) return (short) 0;
        if (c == byte.class) return (byte) 0;
        return 0;
    }

    // ---- Java -> JSON ------------------------------------------------------------------

    static void write(Object v, StringBuilder sb) {
        write(v, sb, new IdentityHashMap<Object, Boolean>());
    }

    private static void write(Object v, StringBuilder sb, IdentityHashMap<Object, Boolean> path) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String || v instanceof Character || v instanceof CharSequence) {
            Json.quote(v.toString(), sb);
        } else if (v instanceof Number) {
            Json.number((Number) v, sb);
        } else if (v instanceof Boolean) {
            sb.append(v.toString());
        } else if (v instanceof Enum) {
            Json.quote(((Enum<?>) v).name(), sb);
        } else if (v instanceof Optional) {
            write(((Optional<?>) v).orElse(null), sb, path);
        } else if (v instanceof byte[]) {
            Json.quote(Base64.getEncoder().encodeToString((byte[]) v), sb);
        } else if (v instanceof Date) {
            sb.append(((Date) v).getTime());
        } else if (v.getClass().getName().startsWith("java.time.")) {
            Json.quote(v.toString(), sb);
        } else {
            if (path.put(v, Boolean.TRUE) != null) {
                throw new MappingException("Direct self-reference leading to cycle (through reference chain: "
                        + v.getClass().getName() + ")");
            }
            if (v instanceof Map) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    Json.quote(String.valueOf(e.getKey()), sb);
                    sb.append(':');
                    write(e.getValue(), sb, path);
                }
                sb.append('}');
            } else if (v instanceof Iterable) {
                sb.append('[');
                boolean first = true;
                for (Object e : (Iterable<?>) v) {
                    if (!first) sb.append(',');
                    first = false;
                    write(e, sb, path);
                }
                sb.append(']');
            } else if (v.getClass().isArray()) {
                sb.append('[');
                int n = Array.getLength(v);
                for (int k = 0; k < n; k++) {
                    if (k > 0) sb.append(',');
                    write(Array.get(v, k), sb, path);
                }
                sb.append(']');
            } else {
                writeBean(v, sb, path);
            }
            path.remove(v);
        }
    }

    private static void writeBean(Object v, StringBuilder sb, IdentityHashMap<Object, Boolean> path) {
        Map<String, Object> props = new LinkedHashMap<>();
        for (Field f : publicFields(v.getClass()).values()) {
            try {
                open(f);
                props.put(f.getName(), f.get(v));
            } catch (IllegalAccessException e) {
                // not readable: left out
            }
        }
        for (Map.Entry<String, Method> e : getters(v.getClass()).entrySet()) {
            try {
                Method m = e.getValue();
                open(m);
                props.put(e.getKey(), m.invoke(v));
            } catch (ReflectiveOperationException | RuntimeException ex) {
                Throwable c = ex.getCause() == null ? ex : ex.getCause();
                throw new MappingException("Cannot read property \"" + e.getKey() + "\" of `"
                        + v.getClass().getName() + "`: " + c);
            }
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : props.entrySet()) {
            if (e.getValue() == null) {
                continue; // Include.NON_NULL
            }
            if (!first) sb.append(',');
            first = false;
            Json.quote(e.getKey(), sb);
            sb.append(':');
            write(e.getValue(), sb, path);
        }
        sb.append('}');
    }
}
