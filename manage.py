#!/usr/bin/env python
from clinicline.__main__ import main

if __name__ == "__main__":
    main()
