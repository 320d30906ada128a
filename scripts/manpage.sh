#!/bin/sh
# Write the manual page lethe(1) to stdout, built from the tool's own --help
# texts (lethe --help, and lethe COMMAND --help for every command), so that
# the page and the tool can never disagree.
#   sh scripts/manpage.sh build/lethe > build/lethe.1
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
lethe=${1:?usage: manpage.sh LETHE}
version=$("$lethe" --version | awk '{ print $2 }')
# roff: a backslash is \e, and a line that starts with . or ' is protected
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
commands=$("$lethe" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
cat <<ROFF
.TH LETHE 1 "" "lethe $version" "User Commands"
.SH NAME
lethe \\- certified machine unlearning: remove records from a trained model, with a certificate
.SH SYNOPSIS
.B lethe
.I COMMAND
.RI [ OPTIONS ]
.br
.B lethe
.I COMMAND
.B \\-\\-help
.SH DESCRIPTION
ROFF
echo ".nf"
"$lethe" --help | awk '/^commands:/ { exit } { print }' | esc
echo ".fi"
echo ".SH COMMANDS"
for c in $commands; do
    echo ".SS $c"
    echo ".nf"
    "$lethe" "$c" --help | esc
    echo ".fi"
done
echo ".SH EXIT STATUS"
echo ".nf"
"$lethe" --help | awk '/^exit status:/ { on = 1; next } on { print }' | esc
echo ".fi"
cat <<'ROFF'
.SH FILES
A workspace directory holds HEAD, LOCK, the owner's state (state.NNNNNNNN, secret), the public
model (model.NNNNNNNN.public), the signing keys (owner.key, secret; owner.pub) and the ledger of
signed certificates (ledger/NNNNNNNN.json).
.SH SEE ALSO
The README, include/lethe.h (the library's API and the certificate format) and proofs/ (the
derivation of every guarantee) in lethe's source.
ROFF
