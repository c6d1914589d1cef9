#!/bin/sh
# dbus-daemon for scripts/test-session.sh (dbus-run-session --dbus-daemon=THIS): the same
# daemon, with its chatter (fd-limit complaints, service activation notes) sent to the
# session's log instead of the test output.
exec dbus-daemon "$@" 2>>"${_HEARTH_TEST_SESSION_DIR:-/dev/null}/dbus.log"
