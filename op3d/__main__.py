from op3d.cli import main

main()
