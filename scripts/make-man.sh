#!/bin/sh
# make-man.sh - outpost(1) in roff, made from the binary's own --help texts (the top-level
# usage and each command's), so the manual never says something the program does not.
#   sh scripts/make-man.sh path/to/outpost > outpost.1
set -eu
OUTPOST=${1:?usage: make-man.sh OUTPOST}
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/" ; }
VERSION=$("$OUTPOST" --version | sed 's/^outpost //')
cat <<ROFF
.TH OUTPOST 1 "" "outpost $VERSION" "Outpost manual"
.SH NAME
outpost \- offline test delivery: central server and offline device
.SH SYNOPSIS
.B outpost
[\fB\-\-data\fR \fIDIR\fR] \fICOMMAND\fR [\fIoptions\fR]
.SH DESCRIPTION
.nf
ROFF
"$OUTPOST" --help | esc
echo ".fi"
echo ".SH COMMANDS"
"$OUTPOST" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | while read -r cmd; do
    echo ".SS $cmd"
    echo ".nf"
    "$OUTPOST" "$cmd" --help 2>&1 | esc
    echo ".fi"
done
cat <<ROFF
.SH FILES
.TP
.I /var/lib/outpost
the data folder of the packaged service (user \fBoutpost\fR, mode 700)
.TP
.I /etc/outpost
setup files and TLS certificates
.SH SEE ALSO
The documents in /usr/share/doc/outpost: setup.md, operations.md, security.md, protocol.md.
ROFF
