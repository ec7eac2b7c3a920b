// lambdabox's Java runtime client: the Context handed to the handler, built from the /next
// headers and the reserved environment variables.
package lambdabox.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

final class LambdaContextImpl implements Context {
    private static final String FUNCTION_NAME = System.getenv("AWS_LAMBDA_FUNCTION_NAME");
    private static final String FUNCTION_VERSION = System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
    private static final String LOG_GROUP = System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
    private static final String LOG_STREAM = System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
    private static final int MEMORY = parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 128);

    private final String requestId;
    private final String invokedArn;
    private final long deadlineMs;
    private final String traceId;
    private final String tenantId;
    private final CognitoIdentity identity;
    private final ClientContext clientContext;
    private final LambdaLogger logger;

    LambdaContextImpl(RuntimeApi.Response next, LambdaLogger logger) {
        this.requestId = next.header("Lambda-Runtime-Aws-Request-Id");
        this.invokedArn = next.header("Lambda-Runtime-Invoked-Function-Arn");
        this.deadlineMs = parseLong(next.header("Lambda-Runtime-Deadline-Ms"), System.currentTimeMillis() + 3000);
        this.traceId = next.header("Lambda-Runtime-Trace-Id");
        this.tenantId = next.header("Lambda-Runtime-Aws-Tenant-Id");
        this.identity = identity(utf8(next.header("Lambda-Runtime-Cognito-Identity")));
        this.clientContext = clientContext(utf8(next.header("Lambda-Runtime-Client-Context")));
        this.logger = logger;
    }

    private static String utf8(String latin1) {
        if (latin1 == null) {
            return null;
        }
        return new String(latin1.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int parseInt(String s, int dflt) {
        try {
            return Integer.parseInt(s);
        } catch (RuntimeException e) {
            return dflt;
        }
    }

    private static long parseLong(String s, long dflt) {
        try {
            return Long.parseLong(s);
        } catch (RuntimeException e) {
            return dflt;
        }
    }

    private static Map<?, ?> object(String json) {
        if (json == null || json.isEmpty()) {
            return null;
        }
        try {
            Object v = Json.parse(json);
            return v instanceof Map ? (Map<?, ?>) v : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String str(Map<?, ?> m, String key) {
        Object v = m == null ? null : m.get(key);
        return v == null ? null : v.toString();
    }

    private static Map<String, String> strings(Object v) {
        if (!(v instanceof Map)) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue() == null ? null
                    : e.getValue() instanceof String ? (String) e.getValue() : Json.write(e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    private static CognitoIdentity identity(String json) {
        final Map<?, ?> m = object(json);
        if (m == null) {
            return null;
        }
        final String id = str(m, "cognitoIdentityId");
        final String pool = str(m, "cognitoIdentityPoolId");
        return new CognitoIdentity() {
            public String getIdentityId() {
                return id;
            }

            public String getIdentityPoolId() {
                return pool;
            }
        };
    }

    private static ClientContext clientContext(String json) {
        final Map<?, ?> m = object(json);
        if (m == null) {
            return null;
        }
        Object c = m.get("client");
        final Map<?, ?> cm = c instanceof Map ? (Map<?, ?>) c : null;
        final Client client = cm == null ? null : new Client() {
            public String getInstallationId() {
                return str(cm, "installation_id");
            }

            public String getAppTitle() {
                return str(cm, "app_title");
            }

            public String getAppVersionName() {
                return str(cm, "app_version_name");
            }

            public String getAppVersionCode() {
                return str(cm, "app_version_code");
            }

            public String getAppPackageName() {
                return str(cm, "app_package_name");
            }
        };
        final Map<String, String> custom = strings(m.get("custom"));
        final Map<String, String> env = strings(m.get("env"));
        return new ClientContext() {
            public Client getClient() {
                return client;
            }

            public Map<String, String> getCustom() {
                return custom;
            }

            public Map<String, String> getEnvironment() {
                return env;
            }
        };
    }

    public String getAwsRequestId() {
        return requestId;
    }

    public String getLogGroupName() {
        return LOG_GROUP;
    }

    public String getLogStreamName() {
        return LOG_STREAM;
    }

    public String getFunctionName() {
        return FUNCTION_NAME;
    }

    public String getFunctionVersion() {
        return FUNCTION_VERSION;
    }

    public String getInvokedFunctionArn() {
        return invokedArn;
    }

    public CognitoIdentity getIdentity() {
        return identity;
    }

    public ClientContext getClientContext() {
        return clientContext;
    }

    public int getRemainingTimeInMillis() {
        long left = deadlineMs - System.currentTimeMillis();
        return left > 0 ? (int) Math.min(left, Integer.MAX_VALUE) : 0;
    }

    public int getMemoryLimitInMB() {
        return MEMORY;
    }

    public LambdaLogger getLogger() {
        return logger;
    }

    public String getTenantId() {
        return tenantId;
    }

    public String getXrayTraceId() {
        return traceId;
    }
}
