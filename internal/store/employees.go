package store

import (
	"context"
	"errors"
	"fmt"
)

const employeeCols = `id, oid, login, name, email, role, store_id`

// EmployeesByID loads employees in one statement; unknown ids are absent.
func (s *DB) EmployeesByID(ctx context.Context, ids []string) (map[string]Employee, error) {
	return byKeys(ctx, s, "employees by id", `SELECT `+employeeCols+` FROM employees`, "id", ids, func(r Employee) string { return r.ID })
}

// EmployeeByLogin finds an employee by login name; ErrNotFound when absent.
func (s *DB) EmployeeByLogin(ctx context.Context, login string) (Employee, error) {
	return s.employeeBy(ctx, "login", login)
}

// EmployeeByOID finds an employee by Entra ID object id; ErrNotFound when absent.
func (s *DB) EmployeeByOID(ctx context.Context, oid string) (Employee, error) {
	return s.employeeBy(ctx, "oid", oid)
}

// employeeBy looks up by a unique column; col is a constant from this file.
func (s *DB) employeeBy(ctx context.Context, col, v string) (Employee, error) {
	var e Employee
	err := s.getContext(ctx, &e, `SELECT `+employeeCols+` FROM employees WHERE `+col+` = ?`, v)
	switch {
	case errors.Is(err, ErrNotFound):
		return Employee{}, fmt.Errorf("employee with %s %q: %w", col, v, ErrNotFound)
	case err != nil:
		return Employee{}, fmt.Errorf("employee by %s: %w", col, err)
	}
	return e, nil
}
