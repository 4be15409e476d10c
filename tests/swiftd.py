#!/usr/bin/python3
# swiftd.py SECTION CONF SWIFT_DIR - run one OpenStack Swift server
# (proxy-server, account-server, container-server or object-server) from
# the Debian packages in the foreground, as /usr/bin/swift-SECTION does,
# but with its swift.conf read from SWIFT_DIR instead of /etc/swift (the
# packages read /etc/swift/swift.conf before any configuration file) and
# its log on standard error instead of syslog (which would be
# /dev/log or UDP port 514).  With "workers = 0" in CONF the server is
# this very process, so that the tests stop it by its PID.
import logging
import sys

from swift.common import utils

section, conf, swift_dir = sys.argv[1:4]
utils.set_swift_dir(swift_dir)


def no_syslog(*args, **kwargs):
    return logging.NullHandler()


utils.ThreadSafeSysLogHandler = no_syslog

from swift.common.wsgi import run_wsgi  # noqa: E402 (after the patch)

# verbose: the log goes to standard error, which the server keeps open
options = {'verbose': True}
if section == 'object-server':
    from swift.obj import server
    options['global_conf_callback'] = server.global_conf_callback
sys.exit(run_wsgi(conf, section, **options))
