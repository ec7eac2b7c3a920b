// Part of lambdabox's Java runtime client. Same binary names and signatures as the interface
// in aws-lambda-java-core, so that a jar compiled against AWS's library runs unchanged.
package com.amazonaws.services.lambda.runtime;

import com.amazonaws.services.lambda.runtime.logging.LogLevel;

public interface LambdaLogger {
    void log(String message);

    void log(byte[] message);

    default void log(String message, LogLevel logLevel) {
        log(message);
    }

    default void log(byte[] message, LogLevel logLevel) {
        log(message);
    }
}
