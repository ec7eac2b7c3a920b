// lambdabox's Java runtime client: the Runtime API (2018-06-01) over one keep-alive socket.
//
// Raw HTTP/1.1 like the python and node clients: the only peer is lambdabox's own server, which
// answers with Content-Length bodies. One reconnect on a stale connection.
package lambdabox.runtime;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

final class RuntimeApi {
    static final class Response {
        final int status;
        final Map<String, String> headers; // lower-case names
        final byte[] body;

        Response(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            return headers.get(name.toLowerCase());
        }
    }

    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    RuntimeApi(String address) {
        String a = address == null || address.isEmpty() ? "127.0.0.1:9001" : address;
        int colon = a.lastIndexOf(':');
        this.host = colon < 0 ? a : a.substring(0, colon);
        this.port = colon < 0 ? 80 : Integer.parseInt(a.substring(colon + 1));
    }

    Response next() throws IOException {
        return request("GET", "/2018-06-01/runtime/invocation/next", null, null);
    }

    Response respond(String requestId, byte[] body) throws IOException {
        return request("POST", "/2018-06-01/runtime/invocation/" + requestId + "/response", null, body);
    }

    Response error(String requestId, String errorType, byte[] body) throws IOException {
        return request("POST", "/2018-06-01/runtime/invocation/" + requestId + "/error", errorType, body);
    }

    Response initError(String errorType, byte[] body) throws IOException {
        return request("POST", "/2018-06-01/runtime/init/error", errorType, body);
    }

    private Response request(String method, String path, String errorType, byte[] body) throws IOException {
        for (int attempt = 0; ; attempt++) {
            boolean fresh = socket == null;
            try {
                if (socket == null) {
                    connect();
                }
                send(method, path, errorType, body);
                return read();
            } catch (IOException e) {
                close();
                if (fresh || attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private void connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.connect(new InetSocketAddress(host, port));
        socket = s;
        in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
        out = s.getOutputStream();
    }

    private void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        socket = null;
        in = null;
        out = null;
    }

    private void send(String method, String path, String errorType, byte[] body) throws IOException {
        StringBuilder h = new StringBuilder(160);
        h.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
        h.append("User-Agent: lambdabox-java-runtime\r\n");
        if (errorType != null) {
            h.append("Lambda-Runtime-Function-Error-Type: ").append(errorType).append("\r\n");
            h.append("Content-Type: application/json\r\n");
        }
        if (body != null) {
            h.append("Content-Length: ").append(body.length).append("\r\n");
        }
        h.append("\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body != null && body.length < 16 * 1024) {
            byte[] all = new byte[head.length + body.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            out.write(all);
        } else {
            out.write(head);
            if (body != null) {
                out.write(body);
            }
        }
        out.flush();
    }

    private Response read() throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("connection closed by the Runtime API");
        }
        int sp = status.indexOf(' ');
        int code = Integer.parseInt(status.substring(sp + 1, sp + 4));
        Map<String, String> headers = new HashMap<>();
        for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            if (colon > 0) {
                headers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
            }
        }
        byte[] body;
        String te = headers.get("transfer-encoding");
        if (te != null && te.toLowerCase().contains("chunked")) {
            body = chunked();
        } else {
            String cl = headers.get("content-length");
            int n = cl == null ? 0 : Integer.parseInt(cl);
            body = new byte[n];
            int off = 0;
            while (off < n) {
                int r = in.read(body, off, n - off);
                if (r < 0) {
                    throw new IOException("truncated body from the Runtime API");
                }
                off += r;
            }
        }
        String conn = headers.get("connection");
        if (conn != null && conn.equalsIgnoreCase("close")) {
            close();
        }
        return new Response(code, headers, body);
    }

    private byte[] chunked() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            if (size == null) {
                throw new IOException("truncated chunked body");
            }
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            if (n == 0) {
                for (String l = line(); l != null && !l.isEmpty(); l = line()) {
                    // trailers are ignored
                }
                return buf.toByteArray();
            }
            byte[] chunk = new byte[n];
            int off = 0;
            while (off < n) {
                int r = in.read(chunk, off, n - off);
                if (r < 0) {
                    throw new IOException("truncated chunk");
                }
                off += r;
            }
            buf.write(chunk);
            line();
        }
    }

    /** One CRLF-terminated line (without the CRLF), or null at end of stream. */
    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            if (c == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            sb.append((char) c);
        }
    }
}
