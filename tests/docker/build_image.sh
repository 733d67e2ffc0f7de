#!/usr/bin/env bash
# build_image.sh — builds docker/Dockerfile for real, CPU-only, and runs the image (CTest:
# Docker.ImageBuildsAndRuns, label docker).
#
#   INITSCOPE_DOCKER_TEST=1 tests/docker/build_image.sh [SOURCE_DIR]
#
# Makes a local Debian 12 base with debootstrap (no registry is reached: the base is imported, the
# build never pulls), builds the Dockerfile with podman with both bases pointing at it (the build
# and runtime stages then run .ci/install-deps on Debian, from the Debian mirror), then runs the
# image as `docker run --read-only -v RESULTS:/results --tmpfs /tmp IMAGE ...` would: its filesystem
# mounted with `podman image mount`, entered with chroot as the image's user, in its working
# directory, with its environment only (`podman run` is refused on these machines). Checks: the
# default command (`initscope info`), `plan` of a config the image carries, a tiny `run` whose
# stats.csv lands in the mounted folder, owned by the image's non-root user, and `initscope plot`
# writing report.html there.
#
# Everything lives in one temporary folder (podman's own storage included, so the machine's images
# are not touched) that is removed at the end, also on failure or interruption. Time is bounded:
# each step has a limit and the whole script stops after INITSCOPE_DOCKER_TEST_SECONDS (2200 s).
#
# Opt-in (it takes minutes and downloads a few hundred MB of packages): INITSCOPE_DOCKER_TEST=1; .ci/run
# sets it. Exit codes: 0 passed, 1 failed, 77 skipped (the reason on stderr): not opted in, not
# root, podman or debootstrap missing (.ci/install-deps docker installs them).
# INITSCOPE_DEBIAN_MIRROR overrides debootstrap's mirror (default: deb.debian.org).
#
# Two opt-in variants check the Dockerfile's path on the NVIDIA images without their registry:
#   INITSCOPE_DOCKER_BASE=noble   the base is Ubuntu 24.04 (the NVIDIA CUDA 13 images' distribution,
#                                 with ubuntu:24.04's apt sources), from archive.ubuntu.com or
#                                 INITSCOPE_UBUNTU_MIRROR. Debian has no Ubuntu keyring, so the
#                                 bootstrap itself is not signature-checked (--no-check-gpg); it
#                                 installs ubuntu-keyring, and apt in the image checks every later
#                                 package. A local stand-in for a test, never pushed anywhere.
#   INITSCOPE_DOCKER_CUDA=1       stand-ins for nvidia/cuda:13.0.0-{devel,runtime}-ubuntu24.04: the
#                                 base plus this machine's CUDA toolkit (/usr/local/cuda: the whole of
#                                 it for the build stage; the runtime libraries for the runtime one)
#                                 and those images' environment; the image is then built with CUDA
#                                 (INITSCOPE_CUDA=ON, CUDA_ARCHITECTURES=90) and must say 'CUDA on'.
set -euo pipefail

skip() {
  echo "build_image.sh: SKIPPED: $*" >&2
  exit 77
}
fail() {
  echo "build_image.sh: FAILED: $*" >&2
  exit 1
}

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
[ -f "$src/docker/Dockerfile" ] || fail "no docker/Dockerfile in $src"
[ "${INITSCOPE_DOCKER_TEST:-0}" = 1 ] ||
  skip "opt-in: set INITSCOPE_DOCKER_TEST=1 to build the image (minutes; downloads Debian packages; .ci/run does)"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, podman build --isolation=chroot, podman image mount, chroot)"
command -v podman >/dev/null || skip "podman is missing (.ci/install-deps docker)"
command -v debootstrap >/dev/null || skip "debootstrap is missing (.ci/install-deps docker)"
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"

budget=${INITSCOPE_DOCKER_TEST_SECONDS:-2200}
t0=$SECONDS
# bounded N CMD...: CMD (a program, not a function) for at most N seconds, or what is left of the
# budget when less.
bounded() {
  local n=$1 left=$((budget - (SECONDS - t0)))
  shift
  [ "$left" -gt 0 ] || fail "out of time (${budget} s in all)"
  timeout --kill-after=10 $((n < left ? n : left)) "$@"
}
step_t=$SECONDS
timings=()
step() {
  timings+=("$(printf '%-22s %4d s' "$1" $((SECONDS - step_t)))")
  step_t=$SECONDS
}

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/initscope-docker.XXXXXX")
image=localhost/initscope:test
mnt=""
# A private podman: its own storage and run folders inside $tmp.
podman_opts=(--root "$tmp/storage" --runroot "$tmp/run" --cgroup-manager=cgroupfs --events-backend=none)
pm() { podman "${podman_opts[@]}" "$@"; }
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$mnt" ]; then pm image unmount "$image" >/dev/null 2>&1; fi
  pm rm --all --force >/dev/null 2>&1
  pm rmi --all --force >/dev/null 2>&1
  # Whatever is still mounted below $tmp (the storage's own mounts), deepest first; then the folder,
  # never crossing into a mount.
  awk -v t="$tmp" '$2 == t || index($2, t "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$tmp"
  [ ! -e "$tmp" ] || echo "build_image.sh: could not remove $tmp" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$tmp/tmp"
export TMPDIR="$tmp/tmp"  # podman's build context copies and the like

variant=${INITSCOPE_DOCKER_BASE:-bookworm}
with_cuda=${INITSCOPE_DOCKER_CUDA:-0}
case "$variant" in bookworm | noble) ;; *) fail "INITSCOPE_DOCKER_BASE is '$variant': bookworm or noble" ;; esac
if [ "$with_cuda" = 1 ]; then
  [ -x /usr/local/cuda/bin/nvcc ] || skip "INITSCOPE_DOCKER_CUDA=1 needs a CUDA toolkit at /usr/local/cuda"
fi
base=localhost/initscope-base:$variant
devel_base=$base
runtime_base=$base

# --- a local base ---------------------------------------------------------------------------------
if [ "$variant" = noble ]; then
  echo "== debootstrap --variant=minbase noble (${INITSCOPE_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}; not signature-checked)"
  bounded 1200 debootstrap --variant=minbase --no-check-gpg noble "$tmp/rootfs" \
    "${INITSCOPE_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}" /usr/share/debootstrap/scripts/gutsy \
    >"$tmp/debootstrap.log" 2>&1 || { tail -20 "$tmp/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  # ubuntu:24.04's sources: main, restricted, universe and multiverse, with updates and security.
  : >"$tmp/rootfs/etc/apt/sources.list"
  cat >"$tmp/rootfs/etc/apt/sources.list.d/ubuntu.sources" <<'EOF'
Types: deb
URIs: http://archive.ubuntu.com/ubuntu/
Suites: noble noble-updates noble-backports
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg

Types: deb
URIs: http://security.ubuntu.com/ubuntu/
Suites: noble-security
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
EOF
  [ -s "$tmp/rootfs/usr/share/keyrings/ubuntu-archive-keyring.gpg" ] || fail "the noble base has no ubuntu-archive-keyring"
else
  echo "== debootstrap --variant=minbase bookworm (${INITSCOPE_DEBIAN_MIRROR:-default mirror})"
  bounded 900 debootstrap --variant=minbase bookworm "$tmp/rootfs" \
    ${INITSCOPE_DEBIAN_MIRROR:+"$INITSCOPE_DEBIAN_MIRROR"} >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
fi
tar -C "$tmp/rootfs" -c . | bounded 300 podman "${podman_opts[@]}" import --quiet - "$base" >/dev/null ||
  fail "podman import of the base failed"
if [ "$with_cuda" = 1 ]; then
  # The NVIDIA images' environment (nvidia/cuda's Dockerfiles): the toolkit at /usr/local/cuda-13.0,
  # /usr/local/cuda a link to it, its bin on PATH, its libraries known to ld.so.
  cuda_env=(--change "ENV PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            --change "ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64"
            --change "ENV CUDA_VERSION=13.0.0" --change "ENV NVIDIA_VISIBLE_DEVICES=all"
            --change "ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility")
  real=$(readlink -f /usr/local/cuda)
  mkdir -p "$tmp/rootfs/usr/local/cuda-13.0/lib" "$tmp/rootfs/etc/ld.so.conf.d"
  ln -sfn cuda-13.0 "$tmp/rootfs/usr/local/cuda"
  ln -sfn lib "$tmp/rootfs/usr/local/cuda-13.0/lib64"
  echo /usr/local/cuda/lib64 >"$tmp/rootfs/etc/ld.so.conf.d/000_cuda.conf"
  chroot "$tmp/rootfs" ldconfig
  # Runtime: the CUDA libraries (as the runtime image's cuda-libraries), no compiler or headers.
  cp -a "$real"/lib/lib{cudart,cublas,cublasLt,curand,cusolver,cusparse,nvJitLink}.so* "$tmp/rootfs/usr/local/cuda-13.0/lib/"
  chroot "$tmp/rootfs" ldconfig
  runtime_base=localhost/initscope-base:$variant-cuda-runtime
  tar -C "$tmp/rootfs" -c . | bounded 600 podman "${podman_opts[@]}" import --quiet "${cuda_env[@]}" - "$runtime_base" \
    >/dev/null || fail "podman import of the CUDA runtime stand-in failed"
  # Devel: the whole toolkit.
  cp -a "$real"/. "$tmp/rootfs/usr/local/cuda-13.0/"
  chroot "$tmp/rootfs" ldconfig
  devel_base=localhost/initscope-base:$variant-cuda-devel
  tar -C "$tmp/rootfs" -c . | bounded 900 podman "${podman_opts[@]}" import --quiet "${cuda_env[@]}" - "$devel_base" \
    >/dev/null || fail "podman import of the CUDA devel stand-in failed"
fi
rm -rf --one-file-system "$tmp/rootfs"
step "base ($variant)"

# --- the image, both stages on the local bases ------------------------------------------------------
cuda_args=()
[ "$with_cuda" != 1 ] || cuda_args=(--build-arg INITSCOPE_CUDA=ON --build-arg CUDA_ARCHITECTURES=90)
echo "== podman build -f docker/Dockerfile (bases $devel_base, $runtime_base${cuda_args:+, with CUDA})"
if ! bounded 2400 nice -n 10 podman "${podman_opts[@]}" build --network=host --isolation=chroot --pull=never \
  --build-arg BASE_DEVEL="$devel_base" --build-arg BASE_RUNTIME="$runtime_base" "${cuda_args[@]}" \
  --build-arg GIT_COMMIT="$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  -f "$src/docker/Dockerfile" -t "$image" "$src" >"$tmp/build.log" 2>&1; then
  tail -40 "$tmp/build.log" >&2
  fail "podman build failed (last lines above)"
fi
grep -E "^install-deps:|^-- Installing:|initscope: nvcc|CUDA" "$tmp/build.log" | head -20 || true
step "image build"

# --- run it -----------------------------------------------------------------------------------------
fmt() { pm image inspect --format "$1" "$image"; }
user=$(fmt '{{.Config.User}}')
workdir=$(fmt '{{.Config.WorkingDir}}')
mapfile -t entrypoint < <(fmt '{{range .Config.Entrypoint}}{{.}}{{"\n"}}{{end}}' | sed '/^$/d')
mapfile -t cmd < <(fmt '{{range .Config.Cmd}}{{.}}{{"\n"}}{{end}}' | sed '/^$/d')
mapfile -t env < <(fmt '{{range .Config.Env}}{{.}}{{"\n"}}{{end}}' | sed '/^$/d')
[ "${entrypoint[*]}" = initscope ] || fail "ENTRYPOINT is '${entrypoint[*]}', not initscope"
[ "${cmd[*]}" = info ] || fail "CMD is '${cmd[*]}', not info"
mnt=$(pm image mount "$image")
[ -d "$mnt/usr" ] || fail "podman image mount gave '$mnt'"

# The image's user as uid:gid (USER may be a name, a uid, or uid:gid); never root.
u=${user%%:*}
g=""
[ "$u" = "$user" ] || g=${user#*:}
if [ -z "$u" ]; then fail "the image sets no USER (it would run as root)"; fi
pw=$(awk -F: -v u="$u" '$1 == u || $3 == u {print; exit}' "$mnt/etc/passwd")
[ -n "$pw" ] || [[ "$u" =~ ^[0-9]+$ ]] || fail "USER $u is not in the image's /etc/passwd"
uid=$u
[ -z "$pw" ] || uid=$(cut -d: -f3 <<<"$pw")
[ -n "$g" ] || g=$(cut -d: -f4 <<<"$pw")
gid=$(awk -F: -v g="$g" '$1 == g || $3 == g {print $3; exit}' "$mnt/etc/group")
gid=${gid:-$g}
home=$(cut -d: -f6 <<<"$pw")
[ "$uid" != 0 ] || fail "the image runs as root (USER $user)"
echo "== image: USER $user ($uid:$gid), WORKDIR $workdir, ENTRYPOINT ${entrypoint[*]}, CMD ${cmd[*]}"

results="$tmp/results"  # -v "$results:/results"
scratch="$tmp/scratch"  # --tmpfs /tmp
mkdir -p "$results" "$scratch"
chown "$uid:$gid" "$results"
chmod 1777 "$scratch"
[ -d "$mnt/results" ] || fail "the image has no /results to mount the results folder on"

# in_image SECONDS ARG...: the image's entrypoint with ARG..., as `docker run` would run it; the
# mounts live in a private mount namespace and go with it.
in_image() {
  local secs=$1
  shift
  # shellcheck disable=SC2016  # the inner script expands its own arguments
  bounded "$secs" unshare --mount --propagation private -- /bin/bash -c '
    set -e
    mnt=$1 results=$2 scratch=$3 uid=$4 gid=$5 workdir=$6 home=$7; shift 7
    mount -t proc proc "$mnt/proc"
    mount --rbind /dev "$mnt/dev"
    mount --rbind /sys "$mnt/sys"
    mount --bind "$results" "$mnt/results"
    mount --bind "$scratch" "$mnt/tmp"
    envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    exec chroot --userspec="$uid:$gid" "$mnt" /usr/bin/env -i HOME="${home:-/}" "${envs[@]}" \
      /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "${workdir:-/}" "$@"
  ' in_image "$mnt" "$results" "$scratch" "$uid" "$gid" "$workdir" "$home" "${env[@]}" -- "${entrypoint[@]}" "$@"
}

echo "== default command: ${entrypoint[*]} ${cmd[*]}"
in_image 120 "${cmd[@]}" | tee "$tmp/info.txt"
grep -q '^initscope [0-9]' "$tmp/info.txt" || fail "initscope info printed no version line"
if [ "$with_cuda" = 1 ]; then
  grep -q '^build: CUDA on' "$tmp/info.txt" || fail "a CUDA build should say 'build: CUDA on'"
else
  grep -q '^build: CUDA off' "$tmp/info.txt" || fail "a CPU-only build should say 'build: CUDA off'"
fi
step "initscope info"

echo "== plan of a config the image carries"
in_image 120 plan /opt/initscope/experiments/glorot2010/fig6_quick.toml --no-calibration >"$tmp/plan.txt" ||
  { cat "$tmp/plan.txt" >&2; fail "initscope plan of /opt/initscope/experiments/glorot2010/fig6_quick.toml failed"; }
tail -2 "$tmp/plan.txt"

echo "== run a tiny config (default results folder: results/tiny, i.e. /results/tiny)"
cat >"$results/tiny.toml" <<'EOF'
name = "tiny"
trials = 2
samples = 4

[network]
input = 8
hidden = [8, 8]
EOF
chown "$uid:$gid" "$results/tiny.toml"
in_image 300 run /results/tiny.toml --no-plot
[ -s "$results/tiny/stats.csv" ] || fail "the run wrote no results/tiny/stats.csv into the mounted folder"
[ "$(stat -c %u "$results/tiny/stats.csv")" = "$uid" ] || fail "stats.csv is not owned by the image's user $uid"
step "run (tiny config)"

echo "== initscope plot /results/tiny"
in_image 600 plot /results/tiny
[ -s "$results/tiny/report.html" ] || fail "initscope plot wrote no report.html"
ls "$results/tiny/figures/"*.png >/dev/null 2>&1 || fail "initscope plot wrote no figures/*.png"
step "plot"

size=$(fmt '{{.Size}}')
echo "== passed: image $(awk -v s="$size" 'BEGIN {printf "%.0f MB", s / 1e6}'), $((SECONDS - t0)) s in all"
printf '   %s\n' "${timings[@]}"
