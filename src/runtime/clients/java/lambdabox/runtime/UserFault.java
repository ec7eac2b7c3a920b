// lambdabox's Java runtime client: a fault in the user's code or its configuration, reported in
// the AWS Java runtime's shape. `fatal` faults (a constructor or static initializer that threw)
// end the environment at init; the others are answered on every invoke.
package lambdabox.runtime;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

final class UserFault extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final String OWN_PACKAGE = "lambdabox.runtime.";

    final String msg;
    final String exception;
    final String trace;
    final boolean fatal;

    UserFault(String msg, String exception, String trace, boolean fatal) {
        super(msg);
        this.msg = msg;
        this.exception = exception;
        this.trace = trace;
        this.fatal = fatal;
    }

    static UserFault of(String msg) {
        return new UserFault(msg, null, null, false);
    }

    static UserFault of(Throwable t, boolean fatal) {
        if (t instanceof UserFault) {
            return (UserFault) t;
        }
        String m = t.getLocalizedMessage() == null ? t.getClass().getName() : t.getLocalizedMessage();
        return new UserFault(m, t.getClass().getName(), trace(t), fatal);
    }

    static UserFault initError(Throwable t, String className) {
        return new UserFault("Error loading class " + className + (t.getMessage() == null ? "" : ": " + t.getMessage()),
                t.getClass().getName(), trace(t), true);
    }

    static UserFault classNotFound(Throwable t, String className) {
        return new UserFault("Class not found: " + className, t.getClass().getName(), trace(t), false);
    }

    /** What the AWS runtime logs for a fault: message, type, stack trace. */
    String reportable() {
        if (exception != null || trace != null) {
            return String.format("%s: %s\n%s\n", msg, exception == null ? "" : exception, trace == null ? "" : trace);
        }
        return msg + "\n";
    }

    /** `{"errorMessage","errorType"}` (AWS sends no stack trace for faults). */
    String body() {
        StringBuilder sb = new StringBuilder("{\"errorMessage\":");
        Json.quote(msg, sb);
        if (exception != null) {
            sb.append(",\"errorType\":");
            Json.quote(exception, sb);
        }
        return sb.append('}').toString();
    }

    static String trace(Throwable t) {
        filter(t, new ArrayList<Throwable>());
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }

    /** Cuts the runtime's own frames (and the reflection frames that called the handler). */
    static <T extends Throwable> T filter(T t, List<Throwable> seen) {
        if (t == null || seen.contains(t)) {
            return t;
        }
        seen.add(t);
        StackTraceElement[] st = t.getStackTrace();
        for (int k = 0; k < st.length; k++) {
            if (st[k].getClassName().startsWith(OWN_PACKAGE)) {
                int end = k;
                while (end > 0 && isReflection(st[end - 1].getClassName())) {
                    end--;
                }
                StackTraceElement[] cut = new StackTraceElement[end];
                System.arraycopy(st, 0, cut, 0, end);
                t.setStackTrace(cut);
                break;
            }
        }
        filter(t.getCause(), seen);
        for (Throwable s : t.getSuppressed()) {
            filter(s, seen);
        }
        return t;
    }

    private static boolean isReflection(String cls) {
        return cls.startsWith("java.lang.reflect.") || cls.startsWith("sun.reflect.")
                || cls.startsWith("jdk.internal.reflect.");
    }

    /** The invocation error body of a throwable: errorMessage, errorType, stackTrace. */
    static String errorBody(Throwable t) {
        filter(t, new ArrayList<Throwable>());
        StringBuilder sb = new StringBuilder("{\"errorMessage\":");
        Json.quote(t.getLocalizedMessage() == null ? t.getClass().getName() : t.getLocalizedMessage(), sb);
        sb.append(",\"errorType\":");
        Json.quote(t.getClass().getName(), sb);
        sb.append(",\"stackTrace\":[");
        StackTraceElement[] st = t.getStackTrace();
        for (int k = 0; k < st.length; k++) {
            if (k > 0) sb.append(',');
            Json.quote(st[k].toString(), sb);
        }
        return sb.append("]}").toString();
    }
}
