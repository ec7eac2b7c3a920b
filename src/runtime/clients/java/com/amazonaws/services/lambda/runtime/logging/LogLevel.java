// Part of lambdabox's Java runtime client. Same binary names and signatures as the interface
// in aws-lambda-java-core, so that a jar compiled against AWS's library runs unchanged.
package com.amazonaws.services.lambda.runtime.logging;

public enum LogLevel {
    UNDEFINED,
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR,
    FATAL;

    public static LogLevel fromString(String logLevel) {
        try {
            return LogLevel.valueOf(logLevel.toUpperCase());
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "Invalid log level: '" + logLevel + "' expected one of [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
        }
    }
}
