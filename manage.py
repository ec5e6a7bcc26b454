#!/usr/bin/env python
from taizhang.cli import main

if __name__ == "__main__":
    main()
