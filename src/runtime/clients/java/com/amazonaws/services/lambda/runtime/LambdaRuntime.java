// Part of lambdabox's Java runtime client. Same binary names and signatures as the interface
// in aws-lambda-java-core, so that a jar compiled against AWS's library runs unchanged.
package com.amazonaws.services.lambda.runtime;

import java.io.IOException;

/** The process-wide logger; the runtime client installs its own before loading the handler. */
public final class LambdaRuntime {
    private LambdaRuntime() {}

    private static volatile LambdaLogger logger = new LambdaLogger() {
        public void log(String message) {
            System.out.print(message);
        }

        public void log(byte[] message) {
            try {
                System.out.write(message);
            } catch (IOException e) {
                e.printStackTrace();
            }
        }
    };

    public static LambdaLogger getLogger() {
        return logger;
    }
}
