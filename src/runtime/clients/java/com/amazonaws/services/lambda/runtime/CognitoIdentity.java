// Part of lambdabox's Java runtime client. Same binary names and signatures as the interface
// in aws-lambda-java-core, so that a jar compiled against AWS's library runs unchanged.
package com.amazonaws.services.lambda.runtime;

public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
