// lambdabox's Java runtime client: the entry point and the invocation loop.
//
// Order, as in the AWS Java runtime: install the LambdaLogger, build the customer class loader,
// load the handler (a fatal fault is posted to /init/error and the process exits 1), then loop
// on /next. A handler's exception is posted to /error as {errorMessage, errorType, stackTrace}
// (Lambda-Runtime-Function-Error-Type: Runtime.UserException); a fault of the handler's
// configuration (class not found, no such method) as {errorMessage, errorType}
// (Runtime.BadFunctionCode). Errors that leave the JVM unusable end the process.
package lambdabox.runtime;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOError;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.TimeZone;

public final class Main {
    private static final String TRACE_PROPERTY = "com.amazonaws.xray.traceHeader";

    private Main() {}

    public static void main(String[] args) throws Exception {
        String handler = args.length > 0 ? args[0] : System.getenv("_HANDLER");
        RuntimeApi api = new RuntimeApi(System.getenv("AWS_LAMBDA_RUNTIME_API"));
        Logger logger = new Logger();
        installLogger(logger);
        String taskRoot = System.getenv("LAMBDA_TASK_ROOT");
        if (taskRoot == null || taskRoot.isEmpty()) {
            taskRoot = System.getProperty("user.dir");
        }
        ClassLoader cl = Loader.customerLoader(taskRoot, "/opt/java");
        Thread.currentThread().setContextClassLoader(cl);
        Loader.Invoker invoker;
        try {
            invoker = Loader.load(handler == null ? "" : handler, cl);
        } catch (UserFault f) {
            logger.log(f.reportable());
            api.initError("Runtime.BadFunctionCode", f.body().getBytes(StandardCharsets.UTF_8));
            System.exit(1);
            return;
        }
        loop(api, invoker, logger);
    }

    private static void loop(RuntimeApi api, Loader.Invoker invoker, Logger logger) throws IOException {
        while (true) {
            RuntimeApi.Response next = api.next();
            if (next.status != 200) {
                System.err.println("lambdabox runtime: /next answered " + next.status + "; exiting");
                System.exit(1);
            }
            String id = next.header("Lambda-Runtime-Aws-Request-Id");
            String trace = next.header("Lambda-Runtime-Trace-Id");
            if (trace != null) {
                System.setProperty(TRACE_PROPERTY, trace);
            } else {
                System.clearProperty(TRACE_PROPERTY);
            }
            LambdaContextImpl ctx = new LambdaContextImpl(next, logger);
            logger.requestId = id;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Throwable failure = null;
            try {
                invoker.call(new ByteArrayInputStream(next.body), out, ctx);
            } catch (Throwable t) {
                failure = t;
            }
            System.out.flush();
            System.err.flush();
            if (failure == null) {
                api.respond(id, out.toByteArray());
                Thread.interrupted(); // a flag the handler left set must not hit the next /next
                continue;
            }
            UserFault.filter(failure, new java.util.ArrayList<Throwable>());
            UserFault fault = UserFault.of(failure, false);
            logger.log(fault.reportable());
            if (failure instanceof UserFault) {
                api.error(id, "Runtime.BadFunctionCode", fault.body().getBytes(StandardCharsets.UTF_8));
            } else {
                api.error(id, "Runtime.UserException", UserFault.errorBody(failure).getBytes(StandardCharsets.UTF_8));
            }
            if (failure instanceof VirtualMachineError || failure instanceof IOError || fault.fatal) {
                System.exit(1);
            }
        }
    }

    /** Makes LambdaRuntime.getLogger() return ours (its field is private, as in AWS's class). */
    private static void installLogger(LambdaLogger logger) {
        try {
            Field f = LambdaRuntime.class.getDeclaredField("logger");
            f.setAccessible(true);
            f.set(null, logger);
        } catch (ReflectiveOperationException e) {
            System.err.println("lambdabox runtime: cannot install the LambdaLogger: " + e);
        }
    }

    /**
     * The LambdaLogger: one log event per call. Newlines inside a message become '\r' so a
     * multi-line message (a stack trace) stays one event, as AWS's framed log sink keeps it.
     * AWS_LAMBDA_LOG_FORMAT=JSON gives {"timestamp","level","message","AWSRequestId"} lines;
     * AWS_LAMBDA_LOG_LEVEL filters calls made with a level.
     */
    static final class Logger implements LambdaLogger {
        private final FileOutputStream stdout = new FileOutputStream(FileDescriptor.out);
        private final LogFormat format;
        private final LogLevel minimum;
        volatile String requestId;

        Logger() {
            String f = System.getenv("AWS_LAMBDA_LOG_FORMAT");
            String l = System.getenv("AWS_LAMBDA_LOG_LEVEL");
            this.format = "JSON".equalsIgnoreCase(f) ? LogFormat.JSON : LogFormat.TEXT;
            LogLevel min = LogLevel.UNDEFINED;
            try {
                if (l != null && !l.isEmpty()) {
                    min = LogLevel.fromString(l);
                }
            } catch (IllegalArgumentException e) {
                min = LogLevel.UNDEFINED;
            }
            this.minimum = min;
        }

        public void log(String message) {
            log(message, LogLevel.UNDEFINED);
        }

        public void log(byte[] message) {
            log(message, LogLevel.UNDEFINED);
        }

        public void log(String message, LogLevel level) {
            if (!enabled(level)) {
                return;
            }
            String m = message == null ? "null" : message;
            if (format == LogFormat.JSON) {
                StringBuilder sb = new StringBuilder("{\"timestamp\":");
                SimpleDateFormat df = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
                df.setTimeZone(TimeZone.getTimeZone("UTC"));
                Json.quote(df.format(new Date()), sb);
                sb.append(",\"message\":");
                Json.quote(m, sb);
                sb.append(",\"level\":");
                Json.quote((level == null ? LogLevel.UNDEFINED : level).name(), sb);
                if (requestId != null) {
                    sb.append(",\"AWSRequestId\":");
                    Json.quote(requestId, sb);
                }
                emit(sb.append('}').toString());
            } else {
                emit(level == null || level == LogLevel.UNDEFINED ? m : "[" + level + "] " + m);
            }
        }

        public void log(byte[] message, LogLevel level) {
            if (enabled(level)) {
                emit(message == null ? "null" : new String(message, StandardCharsets.UTF_8));
            }
        }

        private boolean enabled(LogLevel level) {
            return level == null || level == LogLevel.UNDEFINED || level.ordinal() >= minimum.ordinal();
        }

        private synchronized void emit(String text) {
            String t = text;
            while (t.endsWith("\n")) {
                t = t.substring(0, t.length() - 1);
            }
            byte[] b = (t.replace('\n', '\r') + "\n").getBytes(StandardCharsets.UTF_8);
            System.out.flush();
            try {
                stdout.write(b);
                stdout.flush();
            } catch (IOException e) {
                // stdout is gone: nothing left to log to
            }
        }
    }
}
