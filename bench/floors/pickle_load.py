# CPython loading one pickle, whole process: the scale a fleet-size profile's commands are
# measured beside (bench fleet). Needs standin/ on PYTHONPATH. Usage: python3 pickle_load.py FILE.pkl
import pickle, sys

with open(sys.argv[1], 'rb') as f:
    o = pickle.load(f)
print(len(o))
