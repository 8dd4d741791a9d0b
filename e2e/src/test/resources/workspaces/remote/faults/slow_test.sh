#!/bin/bash
echo "hearth-e2e: partial output before the timeout"
sleep 60
echo "hearth-e2e: this line must never appear"
