// lambdabox's Java runtime client: finding and wrapping the handler named by _HANDLER.
//
// Handler forms as in AWS: `pkg.Class` (the class implements RequestHandler or
// RequestStreamHandler) or `pkg.Class::method` (any public method with a supported signature;
// overloads are ranked as AWS ranks them). Classes load from /var/task, /var/task/lib/*.jar and
// /opt/java/lib/*.jar through a class loader whose parent holds this runtime (and with it the
// aws-lambda-java-core interfaces), so a handler jar that bundles its own copy of those
// interfaces still binds to ours.
package lambdabox.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class Loader {
    /** One invocation: event bytes in, result bytes out. */
    interface Invoker {
        void call(InputStream in, ByteArrayOutputStream out, Context ctx) throws Throwable;
    }

    private Loader() {}

    static ClassLoader customerLoader(String taskRoot, String optRoot) throws Exception {
        List<URL> urls = new ArrayList<>();
        urls.add(new File(taskRoot).toURI().toURL());
        jars(new File(taskRoot, "lib"), urls);
        jars(new File(optRoot, "lib"), urls);
        return new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader());
    }

    private static void jars(File dir, List<URL> out) throws Exception {
        String[] names = dir.list();
        if (names == null) {
            return;
        }
        Arrays.sort(names);
        for (String n : names) {
            if (n.length() > 4 && n.endsWith(".jar")) {
                out.add(new File(dir, n).toURI().toURL());
            }
        }
    }

    /** Resolves `handler`; a fatal fault is thrown (init error), others become the invoker. */
    static Invoker load(String handler, ClassLoader cl) {
        int colon = handler.lastIndexOf("::");
        String className = colon < 0 ? handler : handler.substring(0, colon);
        String method = colon < 0 ? null : handler.substring(colon + 2);
        if (className.isEmpty() || (method != null && method.isEmpty())) {
            return fault(UserFault.of("Invalid handler: `" + handler + "'"));
        }
        Class<?> clazz;
        try {
            clazz = Class.forName(className, true, cl);
        } catch (ClassNotFoundException e) {
            return fault(UserFault.classNotFound(e, className));
        } catch (Throwable t) {
            throw UserFault.initError(t, className);
        }
        Invoker inv = method == null ? byInterface(clazz) : byMethod(clazz, method);
        return inv;
    }

    private static Invoker fault(final UserFault f) {
        if (f.fatal) {
            throw f;
        }
        return new Invoker() {
            public void call(InputStream in, ByteArrayOutputStream out, Context ctx) {
                throw f;
            }
        };
    }

    private static Object instance(Class<?> clazz) {
        Constructor<?> ctor;
        try {
            ctor = clazz.getConstructor();
        } catch (NoSuchMethodException e) {
            if (clazz.getEnclosingClass() != null && !Modifier.isStatic(clazz.getModifiers())) {
                throw UserFault.of(new Exception("Class " + clazz.getName()
                        + " cannot be instantiated because it is a non-static inner class"), false);
            }
            throw UserFault.of(new Exception("Class " + clazz.getName() + " has no public zero-argument constructor", e), false);
        }
        try {
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (InvocationTargetException e) {
            throw UserFault.of(e.getCause() == null ? e : e.getCause(), true);
        } catch (ReflectiveOperationException e) {
            throw UserFault.of(e, false);
        }
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Invoker byInterface(Class<?> clazz) {
        try {
            if (RequestStreamHandler.class.isAssignableFrom(clazz)) {
                final RequestStreamHandler h = (RequestStreamHandler) instance(clazz);
                return new Invoker() {
                    public void call(InputStream in, ByteArrayOutputStream out, Context ctx) throws Throwable {
                        h.handleRequest(in, out, ctx);
                    }
                };
            }
            if (RequestHandler.class.isAssignableFrom(clazz)) {
                Type[] p = interfaceArgs(clazz, RequestHandler.class);
                if (p == null || p.length != 2) {
                    return fault(UserFault.of("Class " + clazz.getName()
                            + " does not implement RequestHandler with concrete type parameters"));
                }
                for (Type t : p) {
                    if (t instanceof TypeVariable && Mapper.rawClass(t) == Object.class) {
                        return fault(UserFault.of("Class " + clazz.getName()
                                + " does not implement RequestHandler with concrete type parameters: parameter "
                                + t + " has no upper bound."));
                    }
                }
                final RequestHandler h = (RequestHandler) instance(clazz);
                final Type in = p[0];
                final Type outType = p[1];
                return pojo(new Call() {
                    public Object call(Object input, Context ctx) {
                        return h.handleRequest(input, ctx);
                    }
                }, in, isVoid(outType) ? null : outType);
            }
        } catch (UserFault f) {
            return fault(f);
        }
        return fault(UserFault.of("Class does not implement an appropriate handler interface: " + clazz.getName()));
    }

    interface Call {
        Object call(Object input, Context ctx) throws Throwable;
    }

    private static boolean isVoid(Type t) {
        return t == void.class || t == Void.class;
    }

    /** Wraps a POJO-style call: JSON event → `in` type, result → JSON (`null` for void). */
    private static Invoker pojo(final Call call, final Type in, final Type out) {
        return new Invoker() {
            public void call(InputStream is, ByteArrayOutputStream os, Context ctx) throws Throwable {
                Object input = null;
                if (in != null) {
                    try {
                        String text = new String(readAll(is), StandardCharsets.UTF_8);
                        Object json = text.trim().isEmpty() ? null : Json.parse(text);
                        input = Mapper.convert(json, in);
                    } catch (Throwable t) {
                        throw new RuntimeException("An error occurred during JSON parsing", UserFault.filter(t, new ArrayList<Throwable>()));
                    }
                }
                Object result = call.call(input, ctx);
                String json;
                try {
                    json = out == null ? "null" : Json.write(result);
                } catch (Throwable t) {
                    throw new RuntimeException("An error occurred during JSON serialization of response", t);
                }
                os.write(json.getBytes(StandardCharsets.UTF_8));
            }
        };
    }

    static byte[] readAll(InputStream is) throws java.io.IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = is.read(buf)) > 0; ) {
            b.write(buf, 0, n);
        }
        return b.toByteArray();
    }

    // ---- Class::method ------------------------------------------------------------------

    private static boolean isContext(Class<?> c) {
        return Context.class.equals(c);
    }

    private static int weight(Method m) {
        Class<?>[] p = m.getParameterTypes();
        return p.length + (p.length > 0 && isContext(p[p.length - 1]) ? 1 : 0);
    }

    private static Invoker byMethod(Class<?> clazz, String name) {
        List<Method> candidates = new ArrayList<>();
        try {
            for (Method m : clazz.getMethods()) {
                if (m.getName().equals(name)) {
                    candidates.add(m);
                }
            }
        } catch (NoClassDefFoundError e) {
            return fault(new UserFault("Error loading method " + name + " on class " + clazz.getName(),
                    e.getClass().getName(), UserFault.trace(e), false));
        }
        candidates.sort(new Comparator<Method>() {
            public int compare(Method a, Method b) {
                if (!a.isBridge() && b.isBridge()) return -1;
                if (a.isBridge() && !b.isBridge()) return 1;
                return -Integer.compare(weight(a), weight(b));
            }
        });
        for (Method m : candidates) {
            try {
                Invoker inv = overload(clazz, m);
                if (inv != null) {
                    return inv;
                }
            } catch (UserFault f) {
                return fault(f);
            }
        }
        return fault(UserFault.of("No public method named " + name
                + " with appropriate method signature found on class " + clazz.getName()));
    }

    private static Invoker overload(Class<?> clazz, final Method m) {
        final Class<?>[] p = m.getParameterTypes();
        final Type[] g = m.getGenericParameterTypes();
        if (p.length > 3) {
            return null;
        }
        final Object target = Modifier.isStatic(m.getModifiers()) ? null : instance(clazz);
        m.setAccessible(true);
        boolean streamIn = p.length > 0 && p[0] == InputStream.class;
        boolean streamOut = (p.length > 1 && p[1] == OutputStream.class) || (p.length > 0 && p[0] == OutputStream.class);
        if (streamIn || streamOut) {
            final int n = p.length;
            if (n == 3 && !(p[0] == InputStream.class && p[1] == OutputStream.class && isContext(p[2]))) {
                return null;
            }
            if (n == 2 && !(isContext(p[1]) || p[1] == OutputStream.class)) {
                return null;
            }
            return new Invoker() {
                public void call(InputStream in, ByteArrayOutputStream out, Context ctx) throws Throwable {
                    Object[] args = new Object[n];
                    for (int k = 0; k < n; k++) {
                        args[k] = p[k] == InputStream.class ? in : p[k] == OutputStream.class ? out : ctx;
                    }
                    invoke(m, target, args);
                }
            };
        }
        final boolean needsContext = p.length > 0 && isContext(p[p.length - 1]);
        int pojoArgs = p.length - (needsContext ? 1 : 0);
        if (pojoArgs > 1 || p.length > 2) {
            return null;
        }
        final Type in = pojoArgs == 1 ? g[0] : null;
        Type ret = m.getGenericReturnType();
        return pojo(new Call() {
            public Object call(Object input, Context ctx) throws Throwable {
                Object[] args = new Object[p.length];
                int k = 0;
                if (in != null) {
                    args[k++] = input;
                }
                if (needsContext) {
                    args[k] = ctx;
                }
                return invoke(m, target, args);
            }
        }, in, isVoid(ret) ? null : ret);
    }

    private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() == null ? e : e.getCause();
        }
    }

    // ---- generic type arguments of RequestHandler<I, O> ---------------------------------

    static Type[] interfaceArgs(Type type, Class<?> iface) {
        return find(type, iface, new HashMap<TypeVariable<?>, Type>());
    }

    private static Type[] find(Type type, Class<?> iface, Map<TypeVariable<?>, Type> outer) {
        Class<?> raw = Mapper.rawClass(type);
        Map<TypeVariable<?>, Type> bind = new HashMap<>();
        TypeVariable<?>[] vars = raw.getTypeParameters();
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            for (int k = 0; k < vars.length && k < args.length; k++) {
                bind.put(vars[k], subst(args[k], outer));
            }
        }
        if (raw == iface) {
            Type[] out = new Type[vars.length];
            for (int k = 0; k < vars.length; k++) {
                Type t = bind.get(vars[k]);
                out[k] = t == null ? vars[k] : t;
            }
            return out;
        }
        for (Type i : raw.getGenericInterfaces()) {
            if (iface.isAssignableFrom(Mapper.rawClass(i))) {
                Type[] r = find(i, iface, bind);
                if (r != null) {
                    return r;
                }
            }
        }
        Type sup = raw.getGenericSuperclass();
        return sup == null ? null : find(sup, iface, bind);
    }

    private static Type subst(Type t, Map<TypeVariable<?>, Type> bind) {
        if (t instanceof TypeVariable && bind.containsKey(t)) {
            return bind.get(t);
        }
        return t;
    }
}
