#!/bin/sh
# Harness self-test (test/vm/kernel-smoke.test.ts): never finishes, so the host must kill qemu at the timeout.
echo "hanging"
while :; do sleep 60; done
