#!/bin/sh
# Harness self-test (test/vm/kernel-smoke.test.ts): records the environment it was given, then exits with
# $EXIT_STATUS, to prove that the status and the environment cross the VM boundary.
{
  echo "PROJECT=$PROJECT"
  echo "OUT=$OUT"
  echo "GREETING=$GREETING"
  echo "uid=$(id -u)"
} > "$OUT/env.txt"
echo "exiting with $EXIT_STATUS"
exit "$EXIT_STATUS"
