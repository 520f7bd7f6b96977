#!/usr/bin/env bash
# The MQTT packet reader's fuzzing: scripts/fuzz.sh mqtt (kept under this name for the commands quoted
# in the README and the closing notes of issue 32).
exec "$(dirname "$0")/fuzz.sh" mqtt "$@"
