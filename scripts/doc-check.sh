#!/usr/bin/env bash
# doc-check.sh [COUNTS_FILE]: keep Documentation/ true to the tree.
#
#   (a) every path cited in Documentation/**/*.rst exists: "kmod/vcpu.c",
#       "kmod/svm/", and with a function, "kmod/vcpu.c:mkvm_vcpu_run", which must
#       also be defined in that file (a C function, array, struct or macro; a label
#       or SYM_*() in a .S file; a function in a shell script);
#   (b) every constant the ioctl code switches on ("case KVM_...:" in kmod/main.c,
#       kmod/vm.c, kmod/vcpu.c: the ioctls, and the capabilities KVM_CHECK_EXTENSION
#       answers) is named in Documentation/api.rst and Documentation/vi/api.rst;
#   (c) every English page has its Vietnamese twin (Documentation/vi/, same file
#       name), and every twin an English page;
#   (d) every identifier of the module named on its own in a literal (``mkvm_...``,
#       ``svm_...``, ``vmx_...``, e.g. a handler in the exit tables) occurs in kmod/;
#   (e) every page parses as reStructuredText without warnings (needs python3 with
#       docutils; skipped without it).
#
# Prints one TAP-style line per check ("ok N - ...", "not ok N - ...", "# SKIP"), then
# "N passed, N failed, N skipped"; writes "P F S" to COUNTS_FILE if given (the format
# scripts/check.sh counts); exits non-zero if anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
counts=${1:-}
doc=Documentation
n=0 passed=0 failed=0 skipped=0

ok()     { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip()   { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $* # SKIP"; }

# is_defined FILE NAME: does FILE define NAME (not merely declare or use it)?
is_defined() {
	local file=$1 name=$2
	case $file in
	*.S)
		grep -qE "^(SYM_[A-Z_]+\($name[,)]|$name:)" "$file" ;;
	*.sh)
		grep -qE "^(function[[:space:]]+)?$name[[:space:]]*\(\)" "$file" ;;
	*.c|*.h)
		# A line starting in column 0 that names NAME followed by "(", "[" or
		# "=", whose statement reaches a "{" before any ";" (so prototypes and
		# extern declarations do not count); or a #define, struct, enum, union.
		awk -v name="$name" '
			BEGIN { id = "(^|[^A-Za-z0-9_])" name }
			$0 ~ "^#[ \t]*define[ \t]+" name "([^A-Za-z0-9_]|$)" { found = 1; exit }
			$0 ~ "^(struct|enum|union)[ \t]+" name "[ \t]*\\{" { found = 1; exit }
			scan > 0 {
				scan--
				if ($0 ~ /^\{/ || $0 ~ /\{[ \t]*$/) { found = 1; exit }
				if ($0 ~ /;/) scan = 0
				next
			}
			/^[A-Za-z_]/ && $0 ~ (id "[ \t]*[(\\[=]") {
				if ($0 ~ /\{[ \t]*$/) { found = 1; exit }
				if ($0 ~ /;[ \t]*$/) next
				scan = 8
			}
			END { exit !found }' "$file" ;;
	*)
		return 1 ;;
	esac
}

pages=$(find "$doc" -name '*.rst' 2>/dev/null | sort)
if [ -z "$pages" ]; then
	not_ok "no $doc/*.rst pages"
fi

# ---------------------------------------------------------------- (a) citations
# "path" or "path:function", with the path under one of the tree's top directories.
# The character before it may not be part of a path (so "selftests/" is not read as
# "tests/", nor "build/selftests/x" as "selftests/x").
cite_re='(^|[^A-Za-z0-9_./-])(kmod|user|selftests|tests|scripts|Documentation)/[A-Za-z0-9_./-]*[A-Za-z0-9_/](:[A-Za-z_][A-Za-z0-9_]*)?'
declare -A where=()
for page in $pages; do
	while IFS= read -r c; do
		[ -n "$c" ] || continue
		where[$c]="${where[$c]:+${where[$c]} }$page"
	done < <(grep -oE "$cite_re" "$page" | sed -E 's/^[^A-Za-z]//' | sort -u)
done
while IFS= read -r c; do
	[ -n "$c" ] || continue
	path=${c%%:*} fn=""
	[ "$path" != "$c" ] && fn=${c#*:}
	from="(${where[$c]})"
	if [ ! -e "$path" ]; then
		not_ok "$c: $path does not exist $from"
	elif [ -z "$fn" ]; then
		ok "$c exists"
	elif [ ! -f "$path" ]; then
		not_ok "$c: $path is not a file $from"
	elif is_defined "$path" "$fn"; then
		ok "$c defined"
	else
		not_ok "$c: no definition of $fn in $path $from"
	fi
done < <(printf '%s\n' "${!where[@]}" | sort)

# ---------------------------------------------------------------- (b) ioctls
consts=$(grep -ohE 'case KVM_[A-Z0-9_]*:' kmod/main.c kmod/vm.c kmod/vcpu.c |
	 sed -E 's/case (KVM_[A-Z0-9_]*):/\1/' | sort -u)
for api in "$doc/api.rst" "$doc/vi/api.rst"; do
	if [ ! -f "$api" ]; then
		not_ok "$api missing"
		continue
	fi
	missing=""
	for k in $consts; do
		grep -qw -- "$k" "$api" || missing="$missing $k"
	done
	if [ -z "$missing" ]; then
		ok "$api names all $(echo "$consts" | wc -w) constants handled in kmod/{main,vm,vcpu}.c"
	else
		not_ok "$api does not name:$missing"
	fi
done

# ---------------------------------------------------------------- (c) twins
for page in $pages; do
	case $page in
	"$doc"/vi/*)
		en="$doc/${page#"$doc"/vi/}"
		[ -f "$en" ] && ok "$page has its English page" ||
			not_ok "$page has no English page $en" ;;
	*)
		vi="$doc/vi/${page#"$doc"/}"
		[ -f "$vi" ] && ok "$page has its Vietnamese twin" ||
			not_ok "$page has no Vietnamese twin $vi" ;;
	esac
done

# ---------------------------------------------------------------- (d) identifiers
# Only whole literals: ``svm_handle_io`` is checked, ``mkvm_emulate_*`` and
# ``svm_handle_rdtsc()`` (an exercise) are not; a name split over two table lines
# (``svm_handle_`` + ``shutdown``) is skipped too.
ids=$(grep -ohE '``(mkvm|svm|vmx)_[A-Za-z0-9_]*[A-Za-z0-9]``' $pages 2>/dev/null |
      tr -d '`' | sort -u)
missing=""
for id in $ids; do
	grep -rqw --include='*.c' --include='*.h' --include='*.S' -- "$id" kmod ||
		missing="$missing $id"
done
if [ -z "$missing" ]; then
	ok "all $(echo "$ids" | wc -w) kmod identifiers named in the pages exist"
else
	not_ok "identifiers named in the pages but not found in kmod/:$missing"
fi

# ---------------------------------------------------------------- (e) syntax
if python3 -c 'import docutils' 2>/dev/null; then
	for page in $pages; do
		msgs=$(python3 - "$page" <<-'EOF' 2>&1
			import sys, io
			from docutils.core import publish_doctree
			err = io.StringIO()
			publish_doctree(open(sys.argv[1], encoding="utf-8").read(),
			                source_path=sys.argv[1],
			                settings_overrides={"report_level": 2, "halt_level": 5,
			                                    "warning_stream": err})
			sys.stdout.write(err.getvalue())
		EOF
		)
		if [ -z "$msgs" ]; then
			ok "$page parses"
		else
			not_ok "$page: reStructuredText problems"
			printf '%s\n' "$msgs" | head -n 10 | sed 's/^/#   /'
		fi
	done
else
	skip "reStructuredText syntax (python3 docutils not installed)"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ -n "$counts" ] && echo "$passed $failed $skipped" > "$counts"
[ "$failed" = 0 ]
