"""Test options: ``--accept-golden`` rewrites tests/golden/ from the current code generation."""


def pytest_addoption(parser):
    parser.addoption("--accept-golden", action="store_true",
                     help="regenerate the golden generated code in tests/golden/")
